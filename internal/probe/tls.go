package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
)

// DefaultWarnDays is how close to expiry a certificate must be to raise
// expires_soon when TLSRequest.WarnDays is zero.
const DefaultWarnDays = 14

// TLSRequest asks for a TLS handshake and a certificate examination.
type TLSRequest struct {
	// Address is host[:port]; the port defaults to 443.
	Address string
	Options
	// ServerName is the SNI and the name the certificate must cover; ""
	// means the host of Address (no SNI when it is an IP address).
	ServerName string
	// RootCAs verifies the chain; nil means the system roots.
	RootCAs *x509.CertPool
	// ALPN lists protocols to offer (h2, http/1.1 ...); nil offers none.
	ALPN []string
	// WarnDays raises expires_soon when the leaf or the verified chain
	// expires within that many days; 0 means DefaultWarnDays (the zero
	// value cannot say "off": use NoExpiryWarning), negative disables the
	// finding too.
	WarnDays int
	// NoExpiryWarning turns expires_soon off whatever WarnDays says (what
	// a suite's or the API's explicit `warn_days: 0` maps to); expired
	// certificates are still findings.
	NoExpiryWarning bool
	// Now is the clock for validity checks; nil means time.Now.
	Now func() time.Time
}

// TLSInfo is what a TLS probe saw.
type TLSInfo struct {
	ServerName  string `json:"server_name,omitempty"`
	Version     string `json:"version,omitempty"`
	CipherSuite string `json:"cipher_suite,omitempty"`
	ALPN        string `json:"alpn,omitempty"`
	OCSPStapled bool   `json:"ocsp_stapled"`
	// Chain is the chain as served, leaf first.
	Chain []CertInfo `json:"chain,omitempty"`
	// Trusted: the served chain links to a trusted root (validity dates
	// aside; those are findings of their own).
	Trusted     bool   `json:"trusted"`
	TrustError  string `json:"trust_error,omitempty"`
	HostnameOK  bool   `json:"hostname_ok"`
	VerifiedLen int    `json:"verified_chain_length,omitempty"` // including the root
	// Expiries, reported separately: the leaf's, the earliest in the chain
	// as served, and the earliest in the verified chain (root included).
	LeafExpiry          time.Time `json:"leaf_expiry,omitzero"`
	ServedChainExpiry   time.Time `json:"served_chain_expiry,omitzero"`
	VerifiedChainExpiry time.Time `json:"verified_chain_expiry,omitzero"`
	// DaysLeft is the whole days until the leaf expires (negative when
	// expired).
	DaysLeft int       `json:"days_left"`
	Findings []Finding `json:"findings,omitempty"`

	version uint16
}

// CertInfo describes one certificate.
type CertInfo struct {
	Subject            string    `json:"subject"`
	Issuer             string    `json:"issuer"`
	DNSNames           []string  `json:"dns_names,omitempty"`
	IPAddresses        []string  `json:"ip_addresses,omitempty"`
	Serial             string    `json:"serial"`
	KeyType            string    `json:"key_type"`
	KeyBits            int       `json:"key_bits"`
	SignatureAlgorithm string    `json:"signature_algorithm"`
	NotBefore          time.Time `json:"not_before"`
	NotAfter           time.Time `json:"not_after"`
	SHA256             string    `json:"sha256"`
	IsCA               bool      `json:"is_ca,omitempty"`
	SelfSigned         bool      `json:"self_signed,omitempty"`
}

// TLS connects, handshakes and examines the certificate chain. Any finding
// fails the probe (phase tls) and is listed in TLSInfo.Findings.
func TLS(ctx context.Context, req TLSRequest) (*Result, error) {
	host, port, err := splitHostPort(req.Address, "443")
	if err != nil {
		return nil, err
	}
	res := &Result{limit: req.timeout(), Kind: KindTLS, Target: req.Address, Start: time.Now()}
	ctx, cancel := context.WithTimeout(ctx, req.timeout())
	defer cancel()
	tr := &tracer{}
	defer tr.finish(res)
	raw, err := req.dialer().DialContext(withTrace(ctx, tr), req.network(), req.dialAddr(net.JoinHostPort(host, port)))
	if err != nil {
		res.fail(dialPhase(err), fmt.Errorf("connecting to %s: %w", req.Address, err))
		return res, nil
	}
	defer raw.Close()
	res.Address = raw.RemoteAddr().String()
	name := req.ServerName
	if name == "" {
		name = host
	}
	conn := tls.Client(raw, clientConfig(name, req.ALPN))
	hsStart := time.Now()
	err = conn.HandshakeContext(ctx)
	tr.mu.Lock()
	tr.t.TLS = time.Since(hsStart)
	tr.t.FirstByte = time.Since(res.Start)
	tr.mu.Unlock()
	if err != nil {
		res.fail(PhaseTLS, fmt.Errorf("TLS handshake with %s: %w", res.Address, err))
		return res, nil
	}
	now := time.Now
	if req.Now != nil {
		now = req.Now
	}
	res.TLS = Examine(conn.ConnectionState(), name, req.RootCAs, req.warnDays(), now())
	res.OK = len(res.TLS.Findings) == 0
	if !res.OK {
		res.fail(PhaseTLS, findingsError(res.TLS.Findings))
	}
	return res, nil
}

// clientConfig handshakes without verifying, so that a bad certificate is
// examined rather than refused; Examine verifies afterwards.
func clientConfig(name string, alpn []string) *tls.Config {
	// TLS 1.0 and 1.1 are accepted so that an old server is described (as
	// old_protocol) rather than refused.
	cfg := &tls.Config{InsecureSkipVerify: true, NextProtos: alpn, MinVersion: tls.VersionTLS10} //nolint:gosec // verified by Examine
	if net.ParseIP(name) == nil {
		cfg.ServerName = name
	}
	return cfg
}

// warnDays is the expires_soon window for Examine: negative when off.
func (r TLSRequest) warnDays() int {
	switch {
	case r.NoExpiryWarning:
		return -1
	case r.WarnDays == 0:
		return DefaultWarnDays
	}
	return r.WarnDays
}

func findingsError(fs []Finding) error {
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = f.Detail
	}
	return fmt.Errorf("certificate check failed: %s", strings.Join(parts, "; "))
}

// Examine describes a handshake's state and its findings: the served chain,
// its trust against roots (nil means system roots), whether it covers name,
// and validity at now. warnDays < 0 disables expires_soon.
func Examine(cs tls.ConnectionState, name string, roots *x509.CertPool, warnDays int, now time.Time) *TLSInfo {
	info := &TLSInfo{
		ServerName:  name,
		Version:     tls.VersionName(cs.Version),
		CipherSuite: tls.CipherSuiteName(cs.CipherSuite),
		ALPN:        cs.NegotiatedProtocol,
		OCSPStapled: len(cs.OCSPResponse) > 0,
		version:     cs.Version,
	}
	certs := cs.PeerCertificates
	if len(certs) == 0 {
		info.Findings = append(info.Findings, Finding{Name: FindingNoCertificate, Detail: "the server sent no certificate"})
		return info
	}
	leaf := certs[0]
	for _, c := range certs {
		info.Chain = append(info.Chain, describe(c))
	}
	info.LeafExpiry = leaf.NotAfter
	info.ServedChainExpiry = earliest(certs)
	info.DaysLeft = int(leaf.NotAfter.Sub(now).Hours() / 24)
	if leaf.NotAfter.Before(now) {
		info.DaysLeft = -int(now.Sub(leaf.NotAfter).Hours()/24) - 1
	}
	chains, verr := verify(certs, roots, now)
	info.Trusted = verr == nil
	if verr != nil {
		info.TrustError = verr.Error()
	} else {
		best := bestChain(chains)
		info.VerifiedLen = len(best)
		info.VerifiedChainExpiry = earliest(best)
	}
	info.HostnameOK = leaf.VerifyHostname(name) == nil
	info.Findings = findings(info, certs, verr, name, warnDays, now)
	return info
}

// verify builds chains from the served certificates to roots. Trust is
// judged apart from validity dates (reported as findings of their own): when
// the chain is out of date at now, it is tried again at moments when the
// served certificates are valid.
func verify(certs []*x509.Certificate, roots *x509.CertPool, now time.Time) ([][]*x509.Certificate, error) {
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	opts := x509.VerifyOptions{
		Roots: roots, Intermediates: inter, CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	chains, err := certs[0].Verify(opts)
	if err == nil || !isDateError(err) {
		return chains, err
	}
	for _, c := range certs {
		for _, at := range []time.Time{c.NotBefore.Add(time.Second), c.NotAfter.Add(-time.Second)} {
			opts.CurrentTime = at
			chains, err2 := certs[0].Verify(opts)
			if err2 == nil {
				return chains, nil
			}
			if !isDateError(err2) {
				err = err2
			}
		}
	}
	return nil, err
}

func isDateError(err error) bool {
	var ie x509.CertificateInvalidError
	return errors.As(err, &ie) && ie.Reason == x509.Expired
}

// bestChain is the verified chain that stays valid the longest.
func bestChain(chains [][]*x509.Certificate) []*x509.Certificate {
	var best []*x509.Certificate
	for _, ch := range chains {
		if best == nil || earliest(ch).After(earliest(best)) {
			best = ch
		}
	}
	return best
}

func earliest(certs []*x509.Certificate) time.Time {
	var t time.Time
	for _, c := range certs {
		if t.IsZero() || c.NotAfter.Before(t) {
			t = c.NotAfter
		}
	}
	return t
}
