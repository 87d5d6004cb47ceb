// Package certtest mints throwaway certificate authorities and certificates
// for tests, so TLS is tested for real without files or the internet.
package certtest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"math/big"
	"net"
	"testing"
	"time"
)

// CA is a certificate authority that signs leaf certificates.
type CA struct {
	Cert *x509.Certificate
	Key  crypto.Signer
	Pool *x509.CertPool // trusts this CA only (for an intermediate: its root)
	// Chain holds the DER of the intermediates between a leaf this CA signs
	// and the root, nearest first: empty for a root, [this] for an
	// intermediate directly below the root.
	Chain [][]byte
}

// NewCA mints a self-signed root valid from an hour ago for a year.
func NewCA(t testing.TB, name string) *CA {
	t.Helper()
	return newCAWithKey(t, name, newKey(t), time.Now().Add(-time.Hour), time.Now().Add(365*24*time.Hour))
}

// Leaf mints a server certificate for hosts (DNS names or IP addresses),
// valid from an hour ago for 90 days.
func (ca *CA) Leaf(t testing.TB, hosts ...string) tls.Certificate {
	t.Helper()
	return ca.LeafWith(t, &x509.Certificate{
		NotBefore: time.Now().Add(-time.Hour),
		NotAfter:  time.Now().Add(90 * 24 * time.Hour),
	}, hosts...)
}

// LeafWith mints a server certificate from tmpl (validity, signature
// algorithm ...) with hosts added as SANs; the subject defaults to the first
// host.
func (ca *CA) LeafWith(t testing.TB, tmpl *x509.Certificate, hosts ...string) tls.Certificate {
	t.Helper()
	return ca.LeafKey(t, tmpl, newKey(t), hosts...)
}

// LeafKey is LeafWith for a given key (RSA of a given size, say).
func (ca *CA) LeafKey(t testing.TB, tmpl *x509.Certificate, key crypto.Signer, hosts ...string) tls.Certificate {
	t.Helper()
	tmpl.SerialNumber = serial(t)
	if tmpl.Subject.CommonName == "" && len(hosts) > 0 {
		tmpl.Subject.CommonName = hosts[0]
	}
	tmpl.KeyUsage |= x509.KeyUsageDigitalSignature
	tmpl.ExtKeyUsage = append(tmpl.ExtKeyUsage, x509.ExtKeyUsageServerAuth)
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, key.Public(), ca.Key)
	if err != nil {
		t.Fatalf("creating leaf for %v: %v", hosts, err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

// PEM encodes the CA certificate, for --ca files.
func (ca *CA) PEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Cert.Raw})
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func serial(t testing.TB) *big.Int {
	t.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		t.Fatal(err)
	}
	return n
}
