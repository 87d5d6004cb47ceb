package cli

import (
	"crypto/tls"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/dnsscience/dnsscience/internal/certtest"
	"github.com/dnsscience/dnsscience/internal/dnstest"
)

const diagZone = `
$TTL 300
@    IN SOA ns1 host 1 3600 600 86400 60
@    IN NS  ns1
ns1  IN A   127.0.0.1
api  IN A   127.0.0.1
`

func TestDiagnoseCommand(t *testing.T) {
	dnsAddr := dnstest.Start(t, dnstest.NewZone(t, "example.test.", diagZone)).Addr
	s := startSite(t, func(ca *certtest.CA) tls.Certificate { return ca.Leaf(t, "staging.example.test") })
	base := []string{"diagnose", "--no-system", "--resolvers", dnsAddr, "--ca", s.caFile}

	code, out, errOut := run(t, append(base, "https://api.example.test:"+s.port+"/health")...)
	wantExit(t, code, 1, out, errOut)
	for _, want := range []string{
		"Diagnosing https://api.example.test:" + s.port + "/health",
		"DNS        ok    api.example.test → 127.0.0.1 (1 resolver)",
		"TCP        ok    127.0.0.1:" + s.port + "  connected in",
		"TLS        FAIL  127.0.0.1:" + s.port + "  certificate for staging.example.test does not cover api.example.test",
		"HTTP       SKIP  127.0.0.1:" + s.port + "  not tried: TLS failed",
		"Verdict: TLS failed at 127.0.0.1:" + s.port,
		"  problem:      TLS: certificate for staging.example.test does not cover api.example.test",
		"  likely cause: ",
		"  next:         ",
	} {
		if !strings.Contains(out, want) {
			t.Fatalf("missing %q in\n%s", want, out)
		}
	}
	code, out, errOut = run(t, append(base, "https://staging.example.test:"+s.port+"/health", "--no-trace", "--json")...)
	wantExit(t, code, 1, out, errOut)
	var res struct {
		OK      bool
		Verdict struct{ Layer, Problem string }
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("bad JSON %v\n%s", err, out)
	}
	if res.OK || res.Verdict.Layer != "dns" || !strings.Contains(res.Verdict.Problem, "NXDOMAIN") {
		t.Fatalf("got %+v", res)
	}
	// Pinned to the certificate's name through an address literal: healthy
	// once the name matches.
	code, out, errOut = run(t, "diagnose", "--no-system", "--resolvers", dnsAddr, "-k", "https://127.0.0.1:"+s.port+"/health")
	wantExit(t, code, 1, out, errOut) // the certificate does not cover 127.0.0.1
	if !strings.Contains(out, "DNS        SKIP  127.0.0.1 is an address; no lookup") {
		t.Fatalf("got\n%s", out)
	}
}

func TestDiagnoseCommandHealthyAndBadInput(t *testing.T) {
	dnsAddr := dnstest.Start(t, dnstest.NewZone(t, "example.test.", diagZone)).Addr
	s := startSite(t, goodCert(t))
	code, out, errOut := run(t, "diagnose", "--no-system", "--resolvers", dnsAddr, "--ca", s.caFile, "wss://api.example.test:"+s.port+"/ws")
	wantExit(t, code, 0, out, errOut)
	if !strings.Contains(out, "WebSocket  ok") || !strings.Contains(out, "Verdict: healthy") {
		t.Fatalf("got\n%s", out)
	}
	for _, args := range [][]string{
		{"diagnose", "ftp://x/"},
		{"diagnose", "--no-system", "https://a.test/"},
		{"diagnose", "--resolvers", "ftp://x", "https://a.test/"},
		{"diagnose", "--no-system", "--resolvers", dnsAddr, "--expect-ip", "nope", "https://a.test/"},
	} {
		code, out, errOut := run(t, args...)
		wantExit(t, code, 2, out, errOut)
	}
}

func TestDiagnoseCommandTraceAndConnectTo(t *testing.T) {
	tree := dnstest.StartTree(t)
	dnsAddr := dnstest.Start(t, dnstest.NewZone(t, "example.test.", diagZone)).Addr
	s := startSite(t, goodCert(t))
	roots := tree.RootIP + ":" + strconv.Itoa(tree.Port)
	code, out, errOut := run(t, "diagnose", "--no-system", "--resolvers", dnsAddr, "--roots", roots, "https://missing.example.test:"+s.port+"/")
	wantExit(t, code, 1, out, errOut)
	for _, want := range []string{
		"DNS        FAIL  missing.example.test does not exist: NXDOMAIN from 1 resolver; delegation . → test. → example.test.: example.test. at ns1.example.test. (127.0.0.12#",
		"trace referral .",
		"Verdict: DNS failed",
	} {
		if !strings.Contains(out, want) {
			t.Fatalf("missing %q in\n%s", want, out)
		}
	}
	code, out, errOut = run(t, "diagnose", "--no-system", "--resolvers", dnsAddr, "--ca", s.caFile, "--connect-to", "127.0.0.2", "https://api.example.test:"+s.port+"/health")
	wantExit(t, code, 1, out, errOut)
	if !strings.Contains(out, "problem:      TCP: connection to 127.0.0.2 refused") {
		t.Fatalf("got\n%s", out)
	}
	code, _, errOut = run(t, "diagnose", "--roots", "not-an-ip", "https://a.test/")
	wantExit(t, code, 2, "", errOut)
}
