package diagnose

import (
	"crypto/tls"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/dnsscience/dnsscience/internal/certtest"
	"github.com/dnsscience/dnsscience/internal/dnsq"
	"github.com/dnsscience/dnsscience/internal/dnstest"
)

func apiCert(t *testing.T) func(*certtest.CA) tls.Certificate {
	return func(ca *certtest.CA) tls.Certificate { return ca.Leaf(t, "api.example.test") }
}

func silentServer(t *testing.T) dnsq.Server {
	return dnsq.Server{Transport: dnsq.UDP, Addr: dnstest.Start(t, dnstest.Silent()).Addr}
}

// A resolver that does not answer is its own finding: it fails the layer
// although the others agree, and is named beside an NXDOMAIN, never taken
// for a disagreement.
func TestSilentResolverIsAFinding(t *testing.T) {
	t.Parallel()
	e := setup(t, apiCert(t))
	silent := silentServer(t)
	res := e.run(t, "https://api.example.test:"+e.port+"/health", func(r *Request) {
		r.Resolvers, r.Timeout = []dnsq.Server{silent}, 400*time.Millisecond
	})
	wantVerdict(t, res, "dns", "DNS: no answer from "+silent.Addr+": timed out after 200ms (2 tries); api.example.test → 127.0.0.1 (1 resolver)")
	if got := layerStatuses(res); got != "dns:fail tcp:ok tls:ok http:ok" {
		t.Fatalf("got %s, want the answering resolver's address still probed", got)
	}

	nx := resolver(t, strings.Replace(zoneText, "api    IN A   127.0.0.1", "", 1))
	res = e.run(t, "https://api.example.test:"+e.port+"/health", func(r *Request) {
		r.System, r.Resolvers, r.Timeout = []dnsq.Server{nx}, []dnsq.Server{silent}, 400*time.Millisecond
	})
	wantVerdict(t, res, "dns", "DNS: api.example.test does not exist: NXDOMAIN from 1 resolver; no answer from "+silent.Addr+": timed out after 200ms (2 tries)")
	if strings.Contains(res.Verdict.Problem, "disagree") || strings.Contains(res.Verdict.Problem, ", ;") {
		t.Fatalf("got %q, want no disagreement", res.Verdict.Problem)
	}
	if !strings.Contains(res.Verdict.Next, "dnsscience dig --trace api.example.test") {
		t.Fatalf("got next %q, want dig --trace named", res.Verdict.Next)
	}
}

func treeTracer(tree *dnstest.Tree) *dnsq.Tracer {
	return &dnsq.Tracer{Roots: []dnsq.NSHost{{Name: "a.root.test.", Addrs: []netip.Addr{netip.MustParseAddr(tree.RootIP)}}},
		Port: tree.Port, AllServers: true, Client: &dnsq.Client{Timeout: time.Second, Tries: 1}}
}

// One resolver's SERVFAIL while the trace shows the authoritative servers
// answering is the resolver's fault, not the zone's.
func TestServfailBlamesTheResolver(t *testing.T) {
	t.Parallel()
	tree := dnstest.StartTree(t)
	e := setup(t, apiCert(t))
	good := resolver(t, "$TTL 300\n@ IN SOA ns1 host 1 3600 600 86400 60\n@ IN NS ns1\nns1 IN A 127.0.0.1\nwww IN A 192.0.2.90\n")
	good.Addr = dnstest.Start(t, dnstest.NewZone(t, "glueless.test.", "$TTL 300\n@ IN SOA ns1 host 1 3600 600 86400 60\n@ IN NS ns1\nns1 IN A 127.0.0.1\nwww IN A 127.0.0.1\n")).Addr
	servfail := dnsq.Server{Transport: dnsq.UDP, Addr: dnstest.Start(t, dnstest.Rcode(2)).Addr}
	res := e.run(t, "https://www.glueless.test:"+e.port+"/", func(r *Request) {
		r.System, r.Resolvers, r.NoTrace, r.Tracer = []dnsq.Server{good}, []dnsq.Server{servfail}, false, treeTracer(tree)
	})
	wantVerdict(t, res, "dns", "DNS: "+servfail.Addr+" answer SERVFAIL for www.glueless.test, but the authoritative servers answer 192.0.2.90")
	if !strings.Contains(res.Verdict.Cause, "the resolver itself fails") || !strings.Contains(res.Verdict.Next, "dnsscience dig @"+servfail.Addr) {
		t.Fatalf("got cause %q next %q, want the resolver blamed", res.Verdict.Cause, res.Verdict.Next)
	}
	if strings.Contains(res.Verdict.Cause, "authoritative servers are unreachable") {
		t.Fatalf("got cause %q blaming the authoritative servers", res.Verdict.Cause)
	}
}

// The delegation trace shares the DNS layer's timeout: silent resolvers and
// silent roots end within the timeout, with one readable line.
func TestTraceBoundedByTimeout(t *testing.T) {
	t.Parallel()
	e := setup(t, apiCert(t))
	// Stand-in roots that drop every query, like a network that drops DNS.
	first := dnstest.StartOn(t, "127.0.0.51", dnstest.Silent())
	ap := netip.MustParseAddrPort(first.Addr)
	port := int(ap.Port())
	roots := []dnsq.NSHost{{Name: "a.root.test.", Addrs: []netip.Addr{ap.Addr()}}}
	for _, ip := range []string{"127.0.0.52", "127.0.0.53"} {
		s, err := dnstest.Listen(ip, strconv.Itoa(port), dnstest.Silent())
		if err != nil {
			t.Skipf("cannot listen on %s:%d: %v", ip, port, err)
		}
		t.Cleanup(s.Close)
		roots = append(roots, dnsq.NSHost{Name: ip, Addrs: []netip.Addr{netip.MustParseAddr(ip)}})
	}
	start := time.Now()
	res := e.run(t, "https://api.example.test:"+e.port+"/", func(r *Request) {
		r.System, r.Resolvers = []dnsq.Server{silentServer(t)}, []dnsq.Server{silentServer(t)}
		r.NoTrace, r.Roots, r.RootsPort, r.Timeout = false, roots, port, time.Second
	})
	took := time.Since(start)
	t.Logf("%s", res.Verdict.Problem)
	if took > 1500*time.Millisecond {
		t.Fatalf("took %s with a 1s timeout", took)
	}
	wantVerdict(t, res, "dns", "DNS: no resolver answered:")
	p := res.Verdict.Problem
	if !strings.Contains(p, "; delegation from the root: trace failed: ") || strings.Contains(p, "trace failed: trace failed") ||
		strings.Contains(p, "deadline") || strings.Contains(p, "i/o timeout") || len(p) > 400 {
		t.Fatalf("got %d bytes %q, want a short line ending the trace with the timeout", len(p), p)
	}
}

// An internal name is never sent to the public roots: without Roots the
// trace is skipped, and the evidence says so.
func TestInternalNameNotTracedFromPublicRoots(t *testing.T) {
	t.Parallel()
	e := setup(t, apiCert(t))
	res := e.run(t, "https://missing.example.test:"+e.port+"/", func(r *Request) { r.NoTrace = false })
	wantVerdict(t, res, "dns", "delegation not traced: missing.example.test is an internal name, not sent to the public roots")
	if res.DNS.Trace != nil {
		t.Fatalf("got a trace %+v from the public roots", res.DNS.Trace)
	}
	for name, want := range map[string]bool{
		"api.example.test": true, "db.corp": true, "printer.home.arpa": true, "host": true, "x.internal.": true,
		"api.staging.acme.com": true, "api.acme.com": false, "example.com": false, "acme.com.": false,
	} {
		if got := Internal(name, []string{"staging.acme.com"}); got != want {
			t.Errorf("Internal(%q) = %v, want %v", name, got, want)
		}
	}
}

// Warnings pass unless Strict; NoExpiryWarning turns the expiry warning off.
func TestStrictAndExpiryWarning(t *testing.T) {
	t.Parallel()
	e := setup(t, func(ca *certtest.CA) tls.Certificate {
		return ca.LeafValid(t, time.Now().Add(-time.Hour), time.Now().Add(5*24*time.Hour), "api.example.test")
	})
	url := "https://api.example.test:" + e.port + "/health"
	res := e.run(t, url, nil)
	if !res.OK || layerStatuses(res) != "dns:ok tcp:ok tls:warn http:ok" {
		t.Fatalf("got %s %+v, want healthy with a TLS warning", layerStatuses(res), res.Verdict)
	}
	res = e.run(t, url, func(r *Request) { r.Strict = true })
	wantVerdict(t, res, "tls", "TLS: leaf certificate expires in")
	if res.Verdict.Status != StatusWarn {
		t.Fatalf("got verdict status %s, want warn", res.Verdict.Status)
	}
	res = e.run(t, url, func(r *Request) { r.Strict, r.NoExpiryWarning = true, true })
	if !res.OK || layerStatuses(res) != "dns:ok tcp:ok tls:ok http:ok" {
		t.Fatalf("got %s %+v, want no warning with NoExpiryWarning", layerStatuses(res), res.Verdict)
	}
}

// The CA given is not advised again.
func TestUnknownAuthorityWithCAGiven(t *testing.T) {
	t.Parallel()
	other := certtest.NewCA(t, "Other Root")
	e := setup(t, func(*certtest.CA) tls.Certificate { return other.Leaf(t, "api.example.test") })
	res := e.run(t, "https://api.example.test:"+e.port+"/health", nil)
	wantVerdict(t, res, "tls", "TLS: ")
	if strings.Contains(res.Verdict.Next, "pass the CA with --ca") || strings.Contains(res.Verdict.Next, "pass the issuing CA with --ca") ||
		!strings.Contains(res.Verdict.Cause, "the CA that was given") {
		t.Fatalf("got cause %q next %q, want the given CA acknowledged", res.Verdict.Cause, res.Verdict.Next)
	}
}

// The WebSocket layer waits the linger: a 1011 after 300ms is caught by
// the default 1s, a normal close at once is a warning, not "stayed open".
func TestWSLingerVerdicts(t *testing.T) {
	t.Parallel()
	ca := certtest.NewCAValid(t, "Diag Root", time.Now().Add(-time.Hour), time.Now().Add(365*24*time.Hour))
	mux := http.NewServeMux()
	mux.HandleFunc("/later", func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		select {
		case <-time.After(300 * time.Millisecond):
			_ = c.Close(websocket.StatusInternalError, "lost the database")
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("/bye", func(w http.ResponseWriter, r *http.Request) {
		if c, err := websocket.Accept(w, r, nil); err == nil {
			_ = c.Close(websocket.StatusNormalClosure, "bye")
		}
	})
	e := &env{ca: ca, dns: resolver(t, zoneText), port: site(t, ca.Leaf(t, "api.example.test"), mux)}
	base := "wss://api.example.test:" + e.port
	res := e.run(t, base+"/later", func(r *Request) { r.Linger = 0 })
	wantVerdict(t, res, "ws", `WebSocket: upgrade accepted, then the server closed with 1011 ("lost the database") 3`)
	res = e.run(t, base+"/later", func(r *Request) { r.NoLinger = true })
	if !res.OK {
		t.Fatalf("got %+v, want the late close missed without linger", res.Verdict)
	}
	res = e.run(t, base+"/bye", nil)
	ws := res.Layers[len(res.Layers)-1]
	if !res.OK || ws.Status != StatusWarn || !strings.Contains(ws.Evidence, `then the server closed normally with 1000 ("bye")`) || strings.Contains(ws.Evidence, "open") {
		t.Fatalf("got %s %q, want a warning about the normal close", ws.Status, ws.Evidence)
	}
}

// A resolver that refuses (nothing listens) is named with a plain reason.
func TestRefusedResolver(t *testing.T) {
	t.Parallel()
	e := setup(t, apiCert(t))
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := pc.LocalAddr().String()
	pc.Close()
	res := e.run(t, "https://api.example.test:"+e.port+"/health", func(r *Request) {
		r.System = []dnsq.Server{{Transport: dnsq.UDP, Addr: closed}}
	})
	wantVerdict(t, res, "dns", "DNS: no resolver answered: system "+closed+": connection refused (nothing listens there)")
}
