package probe

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Finding names one problem with a certificate chain.
type Finding struct {
	Name   string `json:"name"`
	Cert   int    `json:"cert"` // index in the served chain (0 is the leaf); -1 for the chain as a whole
	Detail string `json:"detail"`
}

// The findings a TLS probe can report.
const (
	FindingExpired          = "expired"
	FindingNotYetValid      = "not_yet_valid"
	FindingExpiresSoon      = "expires_soon"
	FindingHostnameMismatch = "hostname_mismatch"
	FindingSelfSigned       = "self_signed"
	FindingUnknownAuthority = "unknown_authority"
	FindingIncompleteChain  = "incomplete_chain"
	FindingWeakKey          = "weak_key"
	FindingSHA1Signature    = "sha1_signature"
	FindingNoCertificate    = "no_certificate"
	FindingOldProtocol      = "old_protocol" // TLS 1.0 or 1.1
)

func describe(c *x509.Certificate) CertInfo {
	sum := sha256.Sum256(c.Raw)
	kt, bits := keyInfo(c)
	ci := CertInfo{
		Subject:            c.Subject.String(),
		Issuer:             c.Issuer.String(),
		DNSNames:           c.DNSNames,
		Serial:             fmt.Sprintf("%X", c.SerialNumber),
		KeyType:            kt,
		KeyBits:            bits,
		SignatureAlgorithm: c.SignatureAlgorithm.String(),
		NotBefore:          c.NotBefore.UTC(),
		NotAfter:           c.NotAfter.UTC(),
		SHA256:             strings.ToUpper(hex.EncodeToString(sum[:])),
		IsCA:               c.IsCA,
		SelfSigned:         selfSigned(c),
	}
	for _, ip := range c.IPAddresses {
		ci.IPAddresses = append(ci.IPAddresses, ip.String())
	}
	return ci
}

func keyInfo(c *x509.Certificate) (string, int) {
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		return "RSA", k.N.BitLen()
	case *ecdsa.PublicKey:
		return "ECDSA", k.Curve.Params().BitSize
	case ed25519.PublicKey:
		return "Ed25519", 256
	}
	if c.PublicKeyAlgorithm == x509.DSA {
		return "DSA", 0
	}
	return c.PublicKeyAlgorithm.String(), 0
}

func selfSigned(c *x509.Certificate) bool {
	return bytes.Equal(c.RawIssuer, c.RawSubject) && c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) == nil
}

func weakKey(c *x509.Certificate) bool {
	kt, bits := keyInfo(c)
	switch kt {
	case "RSA":
		return bits < 2048
	case "ECDSA":
		return bits < 256
	case "DSA":
		return true
	}
	return false
}

func weakSignature(a x509.SignatureAlgorithm) bool {
	switch a {
	case x509.SHA1WithRSA, x509.ECDSAWithSHA1, x509.DSAWithSHA1, x509.MD5WithRSA, x509.MD2WithRSA:
		return true
	}
	return false
}

// findings lists every problem with the chain; see the Finding* names.
func findings(info *TLSInfo, certs []*x509.Certificate, verr error, name string, warnDays int, now time.Time) []Finding {
	var out []Finding
	add := func(n string, i int, format string, args ...any) {
		out = append(out, Finding{Name: n, Cert: i, Detail: fmt.Sprintf(format, args...)})
	}
	for i, c := range certs {
		switch {
		case now.After(c.NotAfter):
			add(FindingExpired, i, "%s expired %s ago (not after %s)", label(i, c), days(now.Sub(c.NotAfter)), c.NotAfter.UTC().Format(time.RFC3339))
		case now.Before(c.NotBefore):
			add(FindingNotYetValid, i, "%s is not valid before %s", label(i, c), c.NotBefore.UTC().Format(time.RFC3339))
		}
		if weakKey(c) {
			kt, bits := keyInfo(c)
			add(FindingWeakKey, i, "%s has a weak %s-%d key", label(i, c), kt, bits)
		}
		if weakSignature(c.SignatureAlgorithm) && !(i > 0 && selfSigned(c)) {
			add(FindingSHA1Signature, i, "%s is signed with %s", label(i, c), c.SignatureAlgorithm)
		}
	}
	if warnDays > 0 {
		soon := now.Add(time.Duration(warnDays) * 24 * time.Hour)
		leaf := certs[0]
		if leaf.NotAfter.After(now) && leaf.NotAfter.Before(soon) {
			add(FindingExpiresSoon, 0, "leaf certificate expires in %s (within %d days)", days(leaf.NotAfter.Sub(now)), warnDays)
		} else if v := info.VerifiedChainExpiry; !v.IsZero() && v.After(now) && v.Before(soon) {
			add(FindingExpiresSoon, -1, "the verified chain expires in %s (within %d days)", days(v.Sub(now)), warnDays)
		}
	}
	if info.version < tls.VersionTLS12 {
		add(FindingOldProtocol, -1, "the server negotiated %s; TLS 1.2 or later is expected", info.Version)
	}
	if !info.HostnameOK {
		add(FindingHostnameMismatch, 0, "certificate for %s does not cover %s", covers(certs[0]), name)
	}
	if isDateError(verr) {
		if !hasDateFinding(out) {
			add(FindingExpired, -1, "no chain to a trusted root is valid now: %v", verr)
		}
		return out
	}
	out = append(out, trustFindings(certs, verr)...)
	return out
}

// trustFindings explains a failed chain verification.
func trustFindings(certs []*x509.Certificate, verr error) []Finding {
	if verr == nil {
		return nil
	}
	leaf, top := certs[0], certs[len(certs)-1]
	var ua x509.UnknownAuthorityError
	switch {
	case errors.As(verr, &ua) && anyWeakSignature(certs):
		return nil // the sha1_signature finding explains it: Go refuses such chains
	case selfSigned(leaf):
		return []Finding{{Name: FindingSelfSigned, Cert: 0, Detail: fmt.Sprintf("certificate for %s is self-signed", covers(leaf))}}
	case errors.As(verr, &ua) && !selfSigned(top) && len(top.IssuingCertificateURL) > 0:
		return []Finding{{Name: FindingIncompleteChain, Cert: len(certs) - 1, Detail: fmt.Sprintf(
			"the served chain stops at %q; its issuer %q is not served (it is published at %s): the server is missing an intermediate certificate",
			top.Subject.CommonName, top.Issuer.CommonName, top.IssuingCertificateURL[0])}}
	case errors.As(verr, &ua) && !selfSigned(top):
		return []Finding{{Name: FindingUnknownAuthority, Cert: len(certs) - 1, Detail: fmt.Sprintf(
			"issuer %q of %q is neither served nor a trusted root: it is not trusted here, or the server is missing an intermediate certificate",
			top.Issuer.CommonName, top.Subject.CommonName)}}
	case errors.As(verr, &ua):
		return []Finding{{Name: FindingUnknownAuthority, Cert: len(certs) - 1, Detail: fmt.Sprintf("certificate signed by unknown authority %q", top.Subject.CommonName)}}
	}
	return []Finding{{Name: FindingUnknownAuthority, Cert: -1, Detail: "chain does not verify: " + verr.Error()}}
}

func hasDateFinding(fs []Finding) bool {
	for _, f := range fs {
		if f.Name == FindingExpired || f.Name == FindingNotYetValid {
			return true
		}
	}
	return false
}

func anyWeakSignature(certs []*x509.Certificate) bool {
	for i, c := range certs {
		if weakSignature(c.SignatureAlgorithm) && !(i > 0 && selfSigned(c)) {
			return true
		}
	}
	return false
}

func label(i int, c *x509.Certificate) string {
	if i == 0 {
		return fmt.Sprintf("leaf certificate %q", c.Subject.CommonName)
	}
	return fmt.Sprintf("chain certificate %d %q", i, c.Subject.CommonName)
}

// covers summarises the names a certificate is for.
func covers(c *x509.Certificate) string {
	names := append([]string(nil), c.DNSNames...)
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	if len(names) == 0 {
		return c.Subject.CommonName
	}
	return strings.Join(names, ", ")
}

func days(d time.Duration) string {
	if d < 48*time.Hour {
		return d.Round(time.Minute).String()
	}
	return fmt.Sprintf("%d days", int(d.Hours()/24))
}
