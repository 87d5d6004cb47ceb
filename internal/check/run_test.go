package check

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/dnsscience/dnsscience/internal/certtest"
	"github.com/dnsscience/dnsscience/internal/dnstest"
)

const zoneText = `
$TTL 300
@    IN SOA ns1 host 1 3600 600 86400 60
@    IN NS  ns1
ns1  IN A   192.0.2.53
api  IN A   203.0.113.10
`

type fixture struct {
	dnsA, dnsB, dnsLocal, port, caFile, tcpAddr string
	inflight, maxInflight                       atomic.Int32
}

func startFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{}
	f.dnsA = dnstest.Start(t, dnstest.NewZone(t, "example.test.", zoneText)).Addr
	f.dnsB = dnstest.Start(t, dnstest.NewZone(t, "example.test.", strings.Replace(zoneText, "203.0.113.10", "203.0.113.99", 1))).Addr
	f.dnsLocal = dnstest.Start(t, dnstest.NewZone(t, "example.test.", strings.Replace(zoneText, "203.0.113.10", "127.0.0.1", 1))).Addr
	ca := certtest.NewCA(t, "Check Root")
	f.caFile = ca.WriteCAFile(t)
	mux := http.NewServeMux()
	mux.HandleFunc("/health", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, `{"status":"ok"}`)
	})
	mux.HandleFunc("/down", func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, `{"status":"degraded"}`, http.StatusServiceUnavailable)
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, _ *http.Request) {
		n := f.inflight.Add(1)
		defer f.inflight.Add(-1)
		for {
			m := f.maxInflight.Load()
			if n <= m || f.maxInflight.CompareAndSwap(m, n) {
				break
			}
		}
		time.Sleep(50 * time.Millisecond)
	})
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		if _, msg, err := c.Read(r.Context()); err == nil {
			_ = c.Write(r.Context(), websocket.MessageText, []byte(strings.ReplaceAll(string(msg), "ping", "pong")))
		}
		_ = c.Close(websocket.StatusNormalClosure, "")
	})
	mux.HandleFunc("/ws-crash", func(w http.ResponseWriter, r *http.Request) {
		if c, err := websocket.Accept(w, r, nil); err == nil {
			_ = c.Close(websocket.StatusInternalError, "boom")
		}
	})
	srv := httptest.NewUnstartedServer(mux)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{ca.Leaf(t, "api.example.test")}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	_, f.port, _ = net.SplitHostPort(srv.Listener.Addr().String())
	f.tcpAddr = srv.Listener.Addr().String()
	return f
}

func (f *fixture) suite(t *testing.T, checks string) *Suite {
	t.Helper()
	text := fmt.Sprintf("defaults:\n  timeout: 5s\n  ca: %s\n  resolvers: [%s]\nchecks:\n%s", f.caFile, f.dnsA, checks)
	s, err := Parse("test.yaml", []byte(text), env(map[string]string{"PORT": f.port, "DNS_A": f.dnsA, "DNS_B": f.dnsB, "DNS_LOCAL": f.dnsLocal}))
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	return s
}

func runSuite(t *testing.T, s *Suite) map[string]Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out := map[string]Result{}
	for _, r := range (&Runner{}).Run(ctx, []*Suite{s}, nil) {
		out[r.Name] = r
	}
	return out
}

func TestRunChecks(t *testing.T) {
	f := startFixture(t)
	s := f.suite(t, `
  - {name: dns ok, kind: dns, target: api.example.test, conditions: ['dns.rcode == NOERROR', 'dns.answers contains "203.0.113.10"', 'dns.ttl == 300']}
  - {name: dns nx, kind: dns, target: nope.example.test, conditions: ['dns.rcode == NOERROR']}
  - {name: agree, kind: propagation, target: api.example.test, options: {resolvers: ["${DNS_A}", "${DNS_A}"]}, conditions: [propagation.consistent, 'propagation.answered == 2']}
  - {name: disagree, kind: propagation, target: api.example.test, options: {resolvers: ["${DNS_A}", "${DNS_B}"]}}
  - {name: health, kind: http, target: "https://api.example.test:${PORT}/health", options: {connect_to: 127.0.0.1}, conditions: ['status == 200', 'body.json.status == "ok"', 'duration < 10s']}
  - {name: down, kind: http, target: "https://api.example.test:${PORT}/down", options: {connect_to: 127.0.0.1}, conditions: ['status == 200']}
  - {name: cert, kind: cert, target: "api.example.test:${PORT}", options: {connect_to: 127.0.0.1}, conditions: ['cert.expires_in > 14d', 'cert.trusted', '!(cert.findings contains "expired")']}
  - {name: cert far, kind: tls, target: "api.example.test:${PORT}", options: {connect_to: 127.0.0.1}, conditions: ['cert.expires_in > 365d']}
  - {name: ws, kind: ws, target: "wss://api.example.test:${PORT}/ws", options: {connect_to: 127.0.0.1, send: ping, expect: pong}, conditions: ['ws.close_code != 1011']}
  - {name: ws crash, kind: ws, target: "wss://api.example.test:${PORT}/ws-crash", options: {connect_to: 127.0.0.1, linger: 5s}, conditions: ['ws.close_code != 1011']}
  - {name: tcp, kind: tcp, target: "127.0.0.1:${PORT}"}
  - {name: refused, kind: http, target: "http://127.0.0.1:1/", conditions: ['status == 200']}
  - {name: diagnose ok, kind: diagnose, target: "https://api.example.test:${PORT}/health", options: {resolvers: ["${DNS_LOCAL}"], no_system: true, no_trace: true}, conditions: [ok, 'diagnose.addresses contains "127.0.0.1"']}
  - {name: diagnose ws, kind: diagnose, target: "wss://api.example.test:${PORT}/ws-crash", options: {resolvers: ["${DNS_LOCAL}"], no_system: true, no_trace: true}, conditions: ['diagnose.failed_layer != "ws"']}
`)
	got := runSuite(t, s)
	wantPass := map[string]bool{
		"dns ok": true, "dns nx": false, "agree": true, "disagree": false, "health": true, "down": false,
		"cert": true, "cert far": false, "ws": true, "ws crash": false, "tcp": true, "refused": false,
		"diagnose ok": true, "diagnose ws": false,
	}
	for name, want := range wantPass {
		r, ok := got[name]
		if !ok {
			t.Fatalf("no result for %s", name)
		}
		if r.Pass != want {
			t.Errorf("%s: got pass %v (failed %+v, error %q), want %v", name, r.Pass, r.Failed, r.Error, want)
		}
	}
	for name, want := range map[string]Failure{
		"dns nx":      {Condition: "dns.rcode == NOERROR", Actual: `dns.rcode="NXDOMAIN"`},
		"disagree":    {Condition: "ok", Actual: "ok=false"},
		"down":        {Condition: "status == 200", Actual: "status=503"},
		"ws crash":    {Condition: "ws.close_code != 1011", Actual: "ws.close_code=1011"},
		"refused":     {Condition: "status == 200", Actual: "status=<missing>"},
		"diagnose ws": {Condition: `diagnose.failed_layer != "ws"`, Actual: `diagnose.failed_layer="ws"`},
	} {
		if f := got[name].Failed; len(f) != 1 || f[0] != want {
			t.Errorf("%s: got failures %+v, want %+v", name, f, want)
		}
	}
	if !strings.Contains(got["refused"].Error, "refused") {
		t.Errorf("refused: got error %q", got["refused"].Error)
	}
	if sum := Summarize((&Runner{}).Run(context.Background(), []*Suite{s}, nil)); sum.Total != 14 || sum.Passed != 7 || sum.Rate != 50 {
		t.Errorf("got summary %+v, want 7/14", sum)
	}
}

func TestRunBounded(t *testing.T) {
	f := startFixture(t)
	var checks strings.Builder
	for i := range 6 {
		fmt.Fprintf(&checks, "  - {name: slow %d, kind: http, target: \"https://api.example.test:${PORT}/slow\", options: {connect_to: 127.0.0.1}}\n", i)
	}
	s := f.suite(t, checks.String())
	var done atomic.Int32
	res := (&Runner{Concurrency: 2}).Run(context.Background(), []*Suite{s}, func(Result) { done.Add(1) })
	if Summarize(res).Passed != 6 || done.Load() != 6 {
		t.Fatalf("got %+v, %d callbacks", Summarize(res), done.Load())
	}
	if m := f.maxInflight.Load(); m > 2 || m < 1 {
		t.Fatalf("got %d checks in flight at once, want at most 2", m)
	}
	for i, r := range res {
		if r.Name != fmt.Sprintf("slow %d", i) {
			t.Fatalf("result %d is %s: want file order", i, r.Name)
		}
	}
}
