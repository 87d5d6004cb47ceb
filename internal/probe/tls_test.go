package probe

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dnsscience/dnsscience/internal/certtest"
)

const host = "api.example.test"

func findingNames(r *Result) []string {
	if r.TLS == nil {
		return nil
	}
	var out []string
	for _, f := range r.TLS.Findings {
		out = append(out, f.Name)
	}
	return out
}

func TestTLSFindings(t *testing.T) {
	now := time.Now()
	day := 24 * time.Hour
	root := certtest.NewCAValid(t, "Test Root", now.Add(-365*day), now.Add(365*day))
	inter := root.Intermediate(t, "Test Intermediate")
	other := certtest.NewCA(t, "Untrusted Root")
	rsaRoot := certtest.NewRSACA(t, "RSA Root")
	expiredInter := root.IntermediateValid(t, "Expired Intermediate", now.Add(-90*day), now.Add(-day))

	tests := []struct {
		name  string
		cert  tls.Certificate
		roots *x509.CertPool
		sni   string
		want  []string // finding names, in order; nil means healthy
	}{
		{"good", root.Leaf(t, host), root.Pool, host, nil},
		{"good with intermediate", inter.Served(inter.Leaf(t, host)), root.Pool, host, nil},
		{"wildcard", root.Leaf(t, "*.example.test"), root.Pool, host, nil},
		{"wildcard one label only", root.Leaf(t, "*.example.test"), root.Pool, "a.b.example.test", []string{FindingHostnameMismatch}},
		{"wrong host", root.Leaf(t, "staging.example.test"), root.Pool, host, []string{FindingHostnameMismatch}},
		{"expired", root.LeafValid(t, now.Add(-90*day), now.Add(-2*day), host), root.Pool, host, []string{FindingExpired}},
		{"not yet valid", root.LeafValid(t, now.Add(2*day), now.Add(90*day), host), root.Pool, host, []string{FindingNotYetValid}},
		{"expires soon", root.LeafValid(t, now.Add(-day), now.Add(3*day), host), root.Pool, host, []string{FindingExpiresSoon}},
		{"self-signed", certtest.SelfSigned(t, host), root.Pool, host, []string{FindingSelfSigned}},
		{"missing intermediate", inter.LeafWith(t, withAIA(now.Add(-time.Hour), now.Add(90*day)), host), root.Pool, host, []string{FindingIncompleteChain}},
		{"unknown issuer not served", other.Leaf(t, host), root.Pool, host, []string{FindingUnknownAuthority}},
		{"unknown authority", withRoot(other.Leaf(t, host), other), root.Pool, host, []string{FindingUnknownAuthority}},
		{"expired intermediate", expiredInter.Served(expiredInter.LeafValid(t, now.Add(-30*day), now.Add(30*day), host)), root.Pool, host, []string{FindingExpired}},
		{"expired intermediate not served", expiredInter.LeafWith(t, withAIA(now.Add(-30*day), now.Add(30*day)), host), root.Pool, host, []string{FindingIncompleteChain}},
		{"weak key", rsaRoot.LeafKey(t, &x509.Certificate{NotBefore: now.Add(-time.Hour), NotAfter: now.Add(90 * day)}, certtest.RSAKey(t, 1024), host), rsaRoot.Pool, host, []string{FindingWeakKey}},
		{"sha1 signature", rsaRoot.LeafWith(t, &x509.Certificate{NotBefore: now.Add(-time.Hour), NotAfter: now.Add(90 * day), SignatureAlgorithm: x509.SHA1WithRSA}, host), rsaRoot.Pool, host, []string{FindingSHA1Signature}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := tlsServer(t, tt.cert, nil)
			r, err := TLS(ctx(t), TLSRequest{Address: addr, ServerName: tt.sni, RootCAs: tt.roots})
			if err != nil {
				t.Fatal(err)
			}
			got := findingNames(r)
			if !slices.Equal(got, tt.want) {
				t.Fatalf("got findings %v (%s), want %v", got, r.Error, tt.want)
			}
			if r.OK != (tt.want == nil) {
				t.Fatalf("got OK %v, want %v", r.OK, tt.want == nil)
			}
			if !r.OK && r.Phase != PhaseTLS {
				t.Fatalf("got phase %s, want tls", r.Phase)
			}
		})
	}
}

// withAIA is a leaf template whose issuer is published at a URL (Authority
// Information Access), as public CAs do.
func withAIA(notBefore, notAfter time.Time) *x509.Certificate {
	return &x509.Certificate{NotBefore: notBefore, NotAfter: notAfter, IssuingCertificateURL: []string{"http://ca.example.test/intermediate.crt"}}
}

func withRoot(leaf tls.Certificate, ca *certtest.CA) tls.Certificate {
	leaf.Certificate = append(leaf.Certificate, ca.Cert.Raw)
	return leaf
}

func TestTLSDetails(t *testing.T) {
	root := certtest.NewCA(t, "Test Root")
	inter := root.Intermediate(t, "Test Intermediate")
	leaf := inter.Served(inter.Leaf(t, host, "127.0.0.1"))
	addr := tlsServer(t, leaf, nil)
	_, port, _ := net.SplitHostPort(addr)
	// Connect to the loopback address while asking for the name.
	r, err := TLS(ctx(t), TLSRequest{Address: host + ":" + port, Options: Options{ConnectTo: "127.0.0.1"}, RootCAs: root.Pool, ALPN: []string{"h2"}})
	mustOK(t, r, err)
	info := r.TLS
	if info.Version != "TLS 1.3" || info.ALPN != "h2" || info.CipherSuite == "" || info.ServerName != host {
		t.Fatalf("got version %q alpn %q cipher %q sni %q", info.Version, info.ALPN, info.CipherSuite, info.ServerName)
	}
	if len(info.Chain) != 2 || info.VerifiedLen != 3 || !info.Trusted || !info.HostnameOK {
		t.Fatalf("got chain %d verified %d trusted %v hostname %v, want 2, 3, true, true", len(info.Chain), info.VerifiedLen, info.Trusted, info.HostnameOK)
	}
	c := info.Chain[0]
	if c.Subject != "CN="+host || !strings.Contains(c.Issuer, "Test Intermediate") || len(c.SHA256) != 64 ||
		c.KeyType != "ECDSA" || c.KeyBits != 256 || c.SignatureAlgorithm != "ECDSA-SHA256" ||
		!slices.Equal(c.DNSNames, []string{host}) || !slices.Equal(c.IPAddresses, []string{"127.0.0.1"}) {
		t.Fatalf("got leaf details %+v", c)
	}
	if info.OCSPStapled {
		t.Fatal("got an OCSP staple from a server that sends none")
	}
	if r.Timings.TLS <= 0 || r.Timings.Connect <= 0 {
		t.Fatalf("got timings %+v, want TLS and connect phases", r.Timings)
	}
}

func TestTLSExpiriesReportedSeparately(t *testing.T) {
	now := time.Now()
	day := 24 * time.Hour
	root := certtest.NewCA(t, "Test Root")
	inter := root.IntermediateValid(t, "Short Intermediate", now.Add(-day), now.Add(40*day))
	leaf := inter.Served(inter.LeafValid(t, now.Add(-day), now.Add(60*day), host))
	addr := tlsServer(t, leaf, nil)
	r, err := TLS(ctx(t), TLSRequest{Address: addr, ServerName: host, RootCAs: root.Pool, WarnDays: 30})
	mustOK(t, r, err)
	info := r.TLS
	if !info.LeafExpiry.Equal(leaf.Leaf.NotAfter) {
		t.Errorf("got leaf expiry %v, want %v", info.LeafExpiry, leaf.Leaf.NotAfter)
	}
	if !info.ServedChainExpiry.Equal(inter.Cert.NotAfter) || !info.VerifiedChainExpiry.Equal(inter.Cert.NotAfter) {
		t.Errorf("got served %v verified %v, want the intermediate's %v", info.ServedChainExpiry, info.VerifiedChainExpiry, inter.Cert.NotAfter)
	}
	if info.DaysLeft < 58 || info.DaysLeft > 60 {
		t.Errorf("got %d days left, want about 59", info.DaysLeft)
	}
	// Within 45 days the intermediate is what expires soon.
	r, err = TLS(ctx(t), TLSRequest{Address: addr, ServerName: host, RootCAs: root.Pool, WarnDays: 45})
	if err != nil {
		t.Fatal(err)
	}
	if got := findingNames(r); !slices.Equal(got, []string{FindingExpiresSoon}) || r.TLS.Findings[0].Cert != -1 {
		t.Fatalf("got %+v, want expires_soon for the chain", r.TLS.Findings)
	}
}

func TestTLSClock(t *testing.T) {
	root := certtest.NewCA(t, "Test Root")
	addr := tlsServer(t, root.Leaf(t, host), nil)
	later := func() time.Time { return time.Now().Add(100 * 24 * time.Hour) }
	r, err := TLS(ctx(t), TLSRequest{Address: addr, ServerName: host, RootCAs: root.Pool, Now: later})
	if err != nil {
		t.Fatal(err)
	}
	if got := findingNames(r); !slices.Equal(got, []string{FindingExpired}) {
		t.Fatalf("got %v, want expired with the clock 100 days on", got)
	}
}

func TestTLSHandshakeFailure(t *testing.T) {
	addr := bannerServer(t, "this is not TLS\r\n")
	r, err := TLS(ctx(t), TLSRequest{Address: addr})
	mustFail(t, r, err, PhaseTLS)
	r, err = TLS(ctx(t), TLSRequest{Address: closedPort(t)})
	mustFail(t, r, err, PhaseConnect)
}

func TestTLSOCSPStaple(t *testing.T) {
	root := certtest.NewCA(t, "Test Root")
	cert := root.Leaf(t, host)
	cert.OCSPStaple = []byte{0x30, 0x03, 0x0a, 0x01, 0x00} // stapled bytes; contents are not checked
	addr := tlsServer(t, cert, nil)
	r, err := TLS(ctx(t), TLSRequest{Address: addr, ServerName: host, RootCAs: root.Pool})
	mustOK(t, r, err)
	if !r.TLS.OCSPStapled {
		t.Fatal("got no OCSP staple, want one")
	}
}

func TestTLSIPAddressTarget(t *testing.T) {
	root := certtest.NewCA(t, "Test Root")
	addr := tlsServer(t, root.Leaf(t, "127.0.0.1"), nil)
	r, err := TLS(ctx(t), TLSRequest{Address: addr, RootCAs: root.Pool})
	mustOK(t, r, err)
	if r.TLS.ServerName != "127.0.0.1" || !r.TLS.HostnameOK {
		t.Fatalf("got %+v", r.TLS)
	}
}

func TestTLSOldProtocol(t *testing.T) {
	root := certtest.NewCA(t, "Test Root")
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{root.Leaf(t, host)}, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	r, err := TLS(ctx(t), TLSRequest{Address: srv.Listener.Addr().String(), ServerName: host, RootCAs: root.Pool})
	if err != nil {
		t.Fatal(err)
	}
	if got := findingNames(r); !slices.Equal(got, []string{FindingOldProtocol}) || r.TLS.Version != "TLS 1.1" {
		t.Fatalf("got %v %q, want old_protocol on TLS 1.1", got, r.TLS.Version)
	}
}

// TestTLSNoExpiryWarning: a certificate 3 days from expiry warns by
// default (14 days) and not with NoExpiryWarning, whatever WarnDays says;
// an expired one is a finding either way.
func TestTLSNoExpiryWarning(t *testing.T) {
	t.Parallel()
	now := time.Now()
	day := 24 * time.Hour
	root := certtest.NewCA(t, "Test Root")
	soon := tlsServer(t, root.LeafValid(t, now.Add(-day), now.Add(3*day), host), nil)
	for _, c := range []struct {
		req  TLSRequest
		want []string
	}{
		{TLSRequest{}, []string{FindingExpiresSoon}},
		{TLSRequest{NoExpiryWarning: true}, nil},
		{TLSRequest{NoExpiryWarning: true, WarnDays: 30}, nil},
		{TLSRequest{WarnDays: -1}, nil},
		{TLSRequest{WarnDays: 2}, nil},
	} {
		c.req.Address, c.req.ServerName, c.req.RootCAs = soon, host, root.Pool
		r, err := TLS(ctx(t), c.req)
		if err != nil {
			t.Fatal(err)
		}
		if got := findingNames(r); !slices.Equal(got, c.want) {
			t.Errorf("NoExpiryWarning=%v WarnDays=%d: got %v, want %v", c.req.NoExpiryWarning, c.req.WarnDays, got, c.want)
		}
	}
	expired := tlsServer(t, root.LeafValid(t, now.Add(-10*day), now.Add(-day), host), nil)
	r, err := TLS(ctx(t), TLSRequest{Address: expired, ServerName: host, RootCAs: root.Pool, NoExpiryWarning: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := findingNames(r); !slices.Equal(got, []string{FindingExpired}) {
		t.Fatalf("got %v, want expired despite NoExpiryWarning", got)
	}
}
