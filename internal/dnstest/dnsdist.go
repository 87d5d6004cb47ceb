package dnstest

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// StartDNSDist runs Debian's dnsdist on loopback as a DNS-over-HTTPS front
// end (with cert, path /dns-query) forwarding to backend, a real server
// such as knotd, and returns the DoH URL once a query through dnsdist for
// probe (a name backend answers) is answered. It skips the test when
// dnsdist is not installed.
func StartDNSDist(t testing.TB, backend, probe string, cert tls.Certificate) string {
	t.Helper()
	bin, err := exec.LookPath("dnsdist")
	if err != nil {
		t.Skip("dnsdist not installed (Debian package dnsdist, in deps/apt/dns.list; `make deps` installs it)")
	}
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writePEMPair(t, cert, certFile, keyFile)
	plain, doh := FreePort(t), FreePort(t)
	conf := filepath.Join(dir, "dnsdist.conf")
	text := fmt.Sprintf(`setSecurityPollSuffix('')
setLocal('127.0.0.1:%d')
newServer({address='%s'})
addDOHLocal('127.0.0.1:%d', '%s', '%s', '/dns-query')
`, plain, backend, doh, certFile, keyFile)
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(bin, "--supervised", "--disable-syslog", "-C", conf)
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting dnsdist: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-done })
	addr := net.JoinHostPort("127.0.0.1", fmt.Sprint(plain))
	if !answers(addr, probe, done) {
		t.Fatalf("dnsdist did not forward a query to %s within 15s; output: %s", backend, stderr.String())
	}
	return fmt.Sprintf("https://127.0.0.1:%d/dns-query", doh)
}

// answers asks addr for name's SOA until it answers, the process ends or
// 15 seconds pass.
func answers(addr, name string, exited <-chan struct{}) bool {
	c := &dns.Client{Timeout: 200 * time.Millisecond}
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), dns.TypeSOA)
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) { // poll while it starts
		select {
		case <-exited:
			return false
		default:
		}
		if r, _, err := c.Exchange(m, addr); err == nil && r.Rcode == dns.RcodeSuccess {
			return true
		}
	}
	return false
}

// writePEMPair writes a certificate chain and its private key as PEM.
func writePEMPair(t testing.TB, cert tls.Certificate, certFile, keyFile string) {
	t.Helper()
	var chain bytes.Buffer
	for _, der := range cert.Certificate {
		_ = pem.Encode(&chain, &pem.Block{Type: "CERTIFICATE", Bytes: der})
	}
	key, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		t.Fatalf("encoding the key: %v", err)
	}
	if err := os.WriteFile(certFile, chain.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key}), 0o600); err != nil {
		t.Fatal(err)
	}
}
