package certtest

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Intermediate mints an intermediate CA signed by ca, valid from an hour
// ago for a year. Leaves it signs carry it in their chain (see Served).
func (ca *CA) Intermediate(t testing.TB, name string) *CA {
	t.Helper()
	return ca.IntermediateValid(t, name, time.Now().Add(-time.Hour), time.Now().Add(365*24*time.Hour))
}

// IntermediateValid is Intermediate with a given validity period.
func (ca *CA) IntermediateValid(t testing.TB, name string, notBefore, notAfter time.Time) *CA {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber:          serial(t),
		Subject:               pkix.Name{CommonName: name, Organization: []string{"dnsscience tests"}},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, key.Public(), ca.Key)
	if err != nil {
		t.Fatalf("creating intermediate %s: %v", name, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	chain := append([][]byte{der}, ca.Chain...)
	return &CA{Cert: cert, Key: key, Pool: ca.Pool, Chain: chain}
}

// Served returns leaf with ca's intermediates appended, as a server that
// sends its full chain serves it.
func (ca *CA) Served(leaf tls.Certificate) tls.Certificate {
	leaf.Certificate = append(append([][]byte(nil), leaf.Certificate[:1]...), ca.Chain...)
	return leaf
}

// LeafValid mints a leaf valid from notBefore to notAfter (expired, not yet
// valid, about to expire ...).
func (ca *CA) LeafValid(t testing.TB, notBefore, notAfter time.Time, hosts ...string) tls.Certificate {
	t.Helper()
	return ca.LeafWith(t, &x509.Certificate{NotBefore: notBefore, NotAfter: notAfter}, hosts...)
}

// RSAKey generates an RSA key of the given size (1024 for a weak key).
func RSAKey(t testing.TB, bits int) *rsa.PrivateKey {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatalf("generating RSA-%d key: %v", bits, err)
	}
	return key
}

// NewCAValid is NewCA with a given validity period (a long-lived root, to
// sign certificates that expired before NewCA's root would exist).
func NewCAValid(t testing.TB, name string, notBefore, notAfter time.Time) *CA {
	t.Helper()
	return newCAWithKey(t, name, newKey(t), notBefore, notAfter)
}

// NewRSACA is NewCA with an RSA-2048 key, for signatures such as
// SHA1WithRSA.
func NewRSACA(t testing.TB, name string) *CA {
	t.Helper()
	return newCAWithKey(t, name, RSAKey(t, 2048), time.Now().Add(-time.Hour), time.Now().Add(365*24*time.Hour))
}

func newCAWithKey(t testing.TB, name string, key crypto.Signer, notBefore, notAfter time.Time) *CA {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber:          serial(t),
		Subject:               pkix.Name{CommonName: name, Organization: []string{"dnsscience tests"}},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatalf("creating CA: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &CA{Cert: cert, Key: key, Pool: pool}
}

// SelfSigned mints a self-signed leaf for hosts, valid from an hour ago for
// 90 days.
func SelfSigned(t testing.TB, hosts ...string) tls.Certificate {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber: serial(t),
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(90 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	ca := &CA{Cert: tmpl, Key: key}
	return ca.LeafKey(t, tmpl, key, hosts...)
}

// WriteCAFile writes the CA certificate as PEM into a temporary file and
// returns its path, for --ca flags.
func (ca *CA) WriteCAFile(t testing.TB) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(path, ca.PEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
