package diagnose

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/dnsscience/dnsscience/internal/certtest"
	"github.com/dnsscience/dnsscience/internal/dnsq"
	"github.com/dnsscience/dnsscience/internal/dnstest"
	"github.com/dnsscience/dnsscience/internal/netpolicy"
)

const zoneText = `
$TTL 300
@      IN SOA ns1 host 1 3600 600 86400 60
@      IN NS  ns1
ns1    IN A   127.0.0.1
api    IN A   127.0.0.1
`

func resolver(t *testing.T, text string) dnsq.Server {
	t.Helper()
	return dnsq.Server{Transport: dnsq.UDP, Addr: dnstest.Start(t, dnstest.NewZone(t, "example.test.", text)).Addr}
}

// site serves h over TLS with cert on 127.0.0.1 and returns the port.
func site(t *testing.T, cert tls.Certificate, h http.Handler) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	return port
}

func handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/health", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })
	mux.HandleFunc("/broken", func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "upstream connect error", http.StatusBadGateway)
	})
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		_, _, _ = c.Read(r.Context())
	})
	mux.HandleFunc("/ws-refuse", func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "no upgrades here", http.StatusForbidden)
	})
	mux.HandleFunc("/ws-crash", func(w http.ResponseWriter, r *http.Request) {
		if c, err := websocket.Accept(w, r, nil); err == nil {
			_ = c.Close(websocket.StatusInternalError, "database unavailable")
		}
	})
	return mux
}

type env struct {
	ca   *certtest.CA
	dns  dnsq.Server
	port string
}

func setup(t *testing.T, cert func(*certtest.CA) tls.Certificate) *env {
	t.Helper()
	ca := certtest.NewCAValid(t, "Diag Root", time.Now().Add(-365*24*time.Hour), time.Now().Add(365*24*time.Hour))
	return &env{ca: ca, dns: resolver(t, zoneText), port: site(t, cert(ca), handler())}
}

func (e *env) run(t *testing.T, url string, mod func(*Request)) *Result {
	t.Helper()
	req := Request{URL: url, System: []dnsq.Server{e.dns}, RootCAs: e.ca.Pool, Timeout: 3 * time.Second, Linger: 300 * time.Millisecond, NoTrace: true}
	if mod != nil {
		mod(&req)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := Run(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func wantVerdict(t *testing.T, res *Result, layer, problem string) {
	t.Helper()
	if res.OK || res.Verdict == nil {
		t.Fatalf("got healthy, want %s to fail; layers %+v", layer, res.Layers)
	}
	if res.Verdict.Layer != layer || !strings.Contains(res.Verdict.Problem, problem) {
		t.Fatalf("got verdict %s %q, want %s containing %q", res.Verdict.Layer, res.Verdict.Problem, layer, problem)
	}
	if res.Verdict.Cause == "" || res.Verdict.Next == "" {
		t.Fatalf("got verdict %+v without cause or next step", res.Verdict)
	}
}

func layerStatuses(res *Result) string {
	var s []string
	for _, l := range res.Layers {
		s = append(s, l.Name+":"+string(l.Status))
	}
	return strings.Join(s, " ")
}

func TestHealthy(t *testing.T) {
	e := setup(t, func(ca *certtest.CA) tls.Certificate { return ca.Leaf(t, "api.example.test") })
	var streamed []string
	res := e.run(t, "https://api.example.test:"+e.port+"/health", func(r *Request) {
		r.Resolvers = []dnsq.Server{e.dns}
		r.OnLayer = func(l Layer) { streamed = append(streamed, l.Name+":"+string(l.Status)) }
	})
	if !res.OK || res.Verdict != nil {
		t.Fatalf("got verdict %+v, want healthy", res.Verdict)
	}
	if got := strings.Join(streamed, " "); got != "dns:ok tcp:ok tls:ok http:ok" {
		t.Errorf("OnLayer saw %q, want every layer in order", got)
	}
	if got := layerStatuses(res); got != "dns:ok tcp:ok tls:ok http:ok" {
		t.Fatalf("got %s", got)
	}
	if res.Layers[0].Evidence != "api.example.test → 127.0.0.1 (2 resolvers agree)" || len(res.DNS.Answers) != 2 || !res.DNS.Answers[0].System {
		t.Fatalf("got DNS %q %+v", res.Layers[0].Evidence, res.DNS.Answers)
	}
	ws := e.run(t, "wss://api.example.test:"+e.port+"/ws", nil)
	if got := layerStatuses(ws); !ws.OK || got != "dns:ok tcp:ok tls:ok ws:ok" {
		t.Fatalf("ws: got %s %+v", got, ws.Verdict)
	}
}

func TestNXDOMAINWithTrace(t *testing.T) {
	tree := dnstest.StartTree(t)
	e := setup(t, func(ca *certtest.CA) tls.Certificate { return ca.Leaf(t, "api.example.test") })
	tracer := &dnsq.Tracer{Roots: []dnsq.NSHost{{Name: "a.root.test.", Addrs: []netip.Addr{netip.MustParseAddr(tree.RootIP)}}}, Port: tree.Port,
		Client: &dnsq.Client{Timeout: time.Second, Tries: 1}}
	res := e.run(t, "https://missing.example.test:"+e.port+"/", func(r *Request) { r.NoTrace, r.Tracer = false, tracer })
	wantVerdict(t, res, "dns", "DNS: missing.example.test does not exist: NXDOMAIN from 1 resolver")
	if !strings.Contains(res.Verdict.Problem, "delegation . → test. → example.test.: example.test. at ns1.example.test. (127.0.0.12#") ||
		!strings.HasSuffix(res.Verdict.Problem, "answers NXDOMAIN") {
		t.Fatalf("got %q, want the trace's last step", res.Verdict.Problem)
	}
	if res.DNS.Trace == nil || res.DNS.Trace.Rcode != "NXDOMAIN" || len(res.Layers) != 1 {
		t.Fatalf("got trace %+v layers %d", res.DNS.Trace, len(res.Layers))
	}
}

func TestResolversDisagree(t *testing.T) {
	e := setup(t, func(ca *certtest.CA) tls.Certificate { return ca.Leaf(t, "api.example.test") })
	stale := resolver(t, strings.Replace(zoneText, "api    IN A   127.0.0.1", "api    IN A   127.0.0.2", 1))
	res := e.run(t, "https://api.example.test:"+e.port+"/health", func(r *Request) { r.Resolvers = []dnsq.Server{stale} })
	wantVerdict(t, res, "dns", "resolvers disagree: system "+e.dns.Addr+" → 127.0.0.1; "+stale.Addr+" → 127.0.0.2")
	// Both addresses are still probed for evidence.
	if len(res.Addresses) != 2 {
		t.Fatalf("got addresses %v", res.Addresses)
	}
	nx := resolver(t, strings.Replace(zoneText, "api    IN A   127.0.0.1", "", 1))
	res = e.run(t, "https://api.example.test:"+e.port+"/health", func(r *Request) { r.Resolvers = []dnsq.Server{nx} })
	wantVerdict(t, res, "dns", "resolvers disagree: "+nx.Addr+" answer NXDOMAIN, system "+e.dns.Addr+" → 127.0.0.1")
}

func TestExpectIP(t *testing.T) {
	e := setup(t, func(ca *certtest.CA) tls.Certificate { return ca.Leaf(t, "api.example.test") })
	res := e.run(t, "https://api.example.test:"+e.port+"/health", func(r *Request) { r.ExpectIP = []string{"127.0.0.9"} })
	wantVerdict(t, res, "dns", "api.example.test resolves to 127.0.0.1, not the expected 127.0.0.9")
}

func TestClosedPort(t *testing.T) {
	e := setup(t, func(ca *certtest.CA) tls.Certificate { return ca.Leaf(t, "api.example.test") })
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	_, port, _ := net.SplitHostPort(l.Addr().String())
	l.Close()
	res := e.run(t, "https://api.example.test:"+port+"/", nil)
	wantVerdict(t, res, "tcp", "TCP: connection to 127.0.0.1 refused")
	if got := layerStatuses(res); got != "dns:ok tcp:fail tls:skip http:skip" {
		t.Fatalf("got %s", got)
	}
}

func TestTLSHostnameMismatch(t *testing.T) {
	e := setup(t, func(ca *certtest.CA) tls.Certificate { return ca.Leaf(t, "staging.example.test") })
	res := e.run(t, "https://api.example.test:"+e.port+"/health", nil)
	wantVerdict(t, res, "tls", "TLS: certificate for staging.example.test does not cover api.example.test")
	if res.Verdict.Address != "127.0.0.1:"+e.port {
		t.Fatalf("got address %s", res.Verdict.Address)
	}
}

func TestTLSExpired(t *testing.T) {
	e := setup(t, func(ca *certtest.CA) tls.Certificate {
		return ca.LeafValid(t, time.Now().Add(-100*24*time.Hour), time.Now().Add(-3*24*time.Hour), "api.example.test")
	})
	res := e.run(t, "https://api.example.test:"+e.port+"/health", nil)
	wantVerdict(t, res, "tls", `TLS: leaf certificate "api.example.test" expired 3 days ago`)
}

func TestHTTP5xx(t *testing.T) {
	e := setup(t, func(ca *certtest.CA) tls.Certificate { return ca.Leaf(t, "api.example.test") })
	res := e.run(t, "https://api.example.test:"+e.port+"/broken", nil)
	wantVerdict(t, res, "http", `HTTP: 502 Bad Gateway from https://api.example.test:`+e.port+`/broken (body: "upstream connect error")`)
}

func TestWSUpgradeRefused(t *testing.T) {
	e := setup(t, func(ca *certtest.CA) tls.Certificate { return ca.Leaf(t, "api.example.test") })
	res := e.run(t, "wss://api.example.test:"+e.port+"/ws-refuse", nil)
	wantVerdict(t, res, "ws", "WebSocket: upgrade refused with HTTP 403")
}

func TestWSClosed1011(t *testing.T) {
	e := setup(t, func(ca *certtest.CA) tls.Certificate { return ca.Leaf(t, "api.example.test") })
	res := e.run(t, "wss://api.example.test:"+e.port+"/ws-crash", func(r *Request) { r.Linger = 5 * time.Second })
	wantVerdict(t, res, "ws", `WebSocket: upgrade accepted, then the server closed with 1011 ("database unavailable")`)
}

func TestPolicyDenied(t *testing.T) {
	e := setup(t, func(ca *certtest.CA) tls.Certificate { return ca.Leaf(t, "api.example.test") })
	// DNS may reach the loopback resolver; targets on loopback are denied.
	p := netpolicy.Default().Allow(netip.MustParsePrefix(e.dns.Addr[:strings.LastIndex(e.dns.Addr, ":")] + "/32"))
	res := e.run(t, "https://api.example.test:"+e.port+"/", func(r *Request) {
		r.Dialer = &portDialer{allowPort: e.dns.Addr, d: netpolicy.Default().Dialer(), dnsOnly: p.Dialer()}
	})
	wantVerdict(t, res, "tcp", "address denied by policy")
	if !errors.Is(res.Layers[1].Probe.Err, netpolicy.ErrDenied) {
		t.Fatalf("got %v", res.Layers[1].Probe.Err)
	}
}

// portDialer lets DNS queries reach the loopback resolver and sends every
// other connection through the default (denying) policy.
type portDialer struct {
	allowPort string
	d         *netpolicy.Dialer
	dnsOnly   *netpolicy.Dialer
}

func (p *portDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	if addr == p.allowPort {
		return p.dnsOnly.DialContext(ctx, network, addr)
	}
	return p.d.DialContext(ctx, network, addr)
}

func TestBadRequest(t *testing.T) {
	for _, u := range []string{"ftp://x/", "https://", "http://[::1"} {
		if _, err := Run(context.Background(), Request{URL: u}); !errors.Is(err, ErrBadRequest) {
			t.Errorf("%q: got %v, want ErrBadRequest", u, err)
		}
	}
	if _, err := Run(context.Background(), Request{URL: "https://a.test/", ExpectIP: []string{"nope"}}); !errors.Is(err, ErrBadRequest) {
		t.Errorf("bad --expect-ip: got %v", err)
	}
}

func TestDNSServfailAndTimeout(t *testing.T) {
	e := setup(t, func(ca *certtest.CA) tls.Certificate { return ca.Leaf(t, "api.example.test") })
	servfail := dnsq.Server{Transport: dnsq.UDP, Addr: dnstest.Start(t, dnstest.Rcode(2)).Addr}
	res := e.run(t, "https://api.example.test:"+e.port+"/health", func(r *Request) { r.System = []dnsq.Server{servfail} })
	wantVerdict(t, res, "dns", "DNS: system "+servfail.Addr+": SERVFAIL for api.example.test")

	silent := dnsq.Server{Transport: dnsq.UDP, Addr: dnstest.Start(t, dnstest.Silent()).Addr}
	res = e.run(t, "https://api.example.test:"+e.port+"/health", func(r *Request) {
		r.System, r.Timeout = []dnsq.Server{silent}, 400*time.Millisecond
	})
	wantVerdict(t, res, "dns", "DNS: no resolver answered: system "+silent.Addr+": timed out after 200ms (2 tries)")
	if a := res.DNS.Answers[0]; !a.TimedOut || a.RTTMs != 0 {
		t.Fatalf("got answer %+v, want timed_out and no RTT", a)
	}
}

func TestConnectTo(t *testing.T) {
	e := setup(t, func(ca *certtest.CA) tls.Certificate { return ca.Leaf(t, "api.example.test") })
	// The "load balancer" at 127.0.0.2 does not listen on the port.
	res := e.run(t, "https://api.example.test:"+e.port+"/health", func(r *Request) { r.ConnectTo = []string{"127.0.0.2"} })
	wantVerdict(t, res, "tcp", "TCP: connection to 127.0.0.2 refused")
	if res.Layers[0].Status != StatusOK || len(res.Addresses) != 1 || res.Addresses[0] != "127.0.0.2" {
		t.Fatalf("got %s %v", layerStatuses(res), res.Addresses)
	}
	res = e.run(t, "https://api.example.test:"+e.port+"/health", func(r *Request) { r.ConnectTo = []string{"127.0.0.1"} })
	if !res.OK {
		t.Fatalf("got %+v", res.Verdict)
	}
}

// TestLameDelegation: a resolver's SERVFAIL is explained by the trace,
// which names the lame server of the zone.
func TestLameDelegation(t *testing.T) {
	tree := dnstest.StartTree(t)
	e := setup(t, func(ca *certtest.CA) tls.Certificate { return ca.Leaf(t, "api.example.test") })
	servfail := dnsq.Server{Transport: dnsq.UDP, Addr: dnstest.Start(t, dnstest.Rcode(2)).Addr}
	tracer := &dnsq.Tracer{Roots: []dnsq.NSHost{{Name: "a.root.test.", Addrs: []netip.Addr{netip.MustParseAddr(tree.RootIP)}}},
		Port: tree.Port, AllServers: true, Client: &dnsq.Client{Timeout: time.Second, Tries: 1}}
	res := e.run(t, "https://www.lame.test:"+e.port+"/", func(r *Request) {
		r.System, r.NoTrace, r.Tracer = []dnsq.Server{servfail}, false, tracer
	})
	wantVerdict(t, res, "dns", "SERVFAIL for www.lame.test; delegation . → test. → lame.test.")
	if !strings.HasSuffix(res.Verdict.Problem, "; lame ns1.lame.test. (127.0.0.15): answered REFUSED") {
		t.Fatalf("got %q, want the lame server named", res.Verdict.Problem)
	}
}
