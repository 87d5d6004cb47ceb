//go:build linux

package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/dnsscience/dnsscience/internal/dnstest"
	"github.com/dnsscience/dnsscience/internal/testbin"
	"github.com/dnsscience/dnsscience/internal/testnet"
)

// The browser tests drive Debian's Chromium with playwright-core (web/e2e)
// against the real `dnsscience serve`. Screenshots go to artifacts/web.

func browserSetup(t *testing.T) (root, bin string) {
	t.Helper()
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		t.Skip("skipping browser test: no Chromium at /usr/bin/chromium (Debian package chromium; `make deps` installs it)")
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("skipping browser test: node is not installed")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "web/node_modules/playwright-core")); err != nil {
		t.Skip("skipping browser test: web/node_modules is missing; `make web` (or `make test`) installs it")
	}
	return root, testbin.Path(t)
}

// runNode runs a browser script and fails the test with its output.
func runNode(t *testing.T, cmd *exec.Cmd, root string, logs fmt.Stringer) {
	t.Helper()
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "ARTIFACTS_DIR="+filepath.Join(root, "artifacts", "web"))
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		t.Fatalf("%s: %v\n%s\nserver log (tail):\n%s", strings.Join(cmd.Args, " "), err, out, tail(logs.String(), 3000))
	}
}

// syncBuffer collects a server's log while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

type hopWant struct {
	TTL     int    `json:"ttl"`
	Addr    string `json:"addr"`
	Located bool   `json:"located"`
	City    string `json:"city,omitempty"`
	ASN     int    `json:"asn,omitempty"`
	Reached bool   `json:"reached,omitempty"`
}

// TestBrowserVisualTrace runs the server inside the source namespace of a
// routed topology whose routers the geo overrides place on both sides of
// the Pacific (Singapore, Tokyo, Los Angeles; one silent, the destination
// private and unplaced), runs Chromium in the same namespace, traces the
// destination from the server's location (Singapore; Hong Kong, without an
// agent, is offline) and checks the hop numbers, the markers and lines (one
// world copy across the antimeridian, dashed across the silent hop), the
// verdict, two traces on one page with toggles and offset lines, the kept
// zoom, the permalink, the phone layout and axe-core.
func TestBrowserVisualTrace(t *testing.T) {
	testnet.Skip(t)
	root, bin := browserSetup(t)
	topo := testnet.Chain(43, 4)
	topo.Spec("r2").Silent = true
	n := testnet.Build(t, topo)
	src, dst := n.Node("src"), n.Node("dst").Addr4().String()
	// Reverse names: a DNS server on the namespace's loopback, the
	// server's upstream.
	ptr := dnstest.NewZone(t, "43.10.in-addr.arpa.", "$TTL 300\n@ IN SOA ns.lab.test. h.lab.test. 1 3600 600 86400 60\n@ IN NS ns.lab.test.\n"+
		"2.0 IN PTR ae1.edge1.sin.lab.test.\n2.2 IN PTR xe0.core1.tyo.lab.test.\n2.3 IN PTR xe1.core2.lax.lab.test.\n2.4 IN PTR www.lab.test.\n")
	if err := src.Do(func() error {
		d, err := dnstest.Listen("127.0.0.1", "53", ptr)
		if err == nil {
			t.Cleanup(d.Close)
		}
		return err
	}); err != nil {
		t.Fatalf("starting the namespace's DNS server: %v", err)
	}
	dir := t.TempDir()
	overrides := filepath.Join(dir, "overrides.yaml")
	writeFile(t, overrides, `overrides:
  - {cidr: 10.43.0.0/24, label: edge, city: Singapore, country_code: SG, latitude: 1.29, longitude: 103.85, asn: 64500, as_org: Lion City Telecom}
  - {cidr: 10.43.2.0/24, label: core, city: Tokyo, country_code: JP, latitude: 35.68, longitude: 139.69, asn: 64510, as_org: Pacific Crossing}
  - {cidr: 10.43.3.0/24, label: core, city: Los Angeles, country_code: US, latitude: 34.05, longitude: -118.24, asn: 64510, as_org: Pacific Crossing}
`)
	config := filepath.Join(dir, "serve.yaml")
	// The server's own location is Singapore; Hong Kong has no agent.
	writeFile(t, config, "location: {id: sin, name: Singapore, provider: lab, latitude: 1.35, longitude: 103.82}\n"+
		"locations:\n  - {id: hkg, name: Hong Kong, provider: lab, latitude: 22.32, longitude: 114.17}\n")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	listen := "127.0.0.1:18098"
	srv := src.Command(ctx, bin, "serve", "--listen", listen, "--data", filepath.Join(dir, "data"), "--config", config,
		"--allow", "10.43.0.0/16", "--upstream", "127.0.0.1:53", "--geo-data", dir, "--geo-overrides", overrides)
	var logs syncBuffer
	srv.Stderr = &logs
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = srv.Wait() }()
	for i := 0; src.Command(ctx, "curl", "-sf", "http://"+listen+"/health").Run() != nil; i++ {
		if i > 100 {
			t.Fatalf("server did not start:\n%s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	want := struct {
		Hops    []hopWant `json:"hops"`
		Pacific [2]int    `json:"pacific"`
		Silent  [2]int    `json:"silent"`
	}{
		Hops: []hopWant{
			{TTL: 1, Addr: "10.43.0.2", Located: true, City: "Singapore", ASN: 64500},
			{TTL: 2, Addr: "", Located: false},
			{TTL: 3, Addr: "10.43.2.2", Located: true, City: "Tokyo", ASN: 64510},
			{TTL: 4, Addr: "10.43.3.2", Located: true, City: "Los Angeles", ASN: 64510},
			{TTL: 5, Addr: dst, Located: false, Reached: true},
		},
		Pacific: [2]int{3, 4},
		Silent:  [2]int{1, 3},
	}
	b, _ := json.Marshal(want)
	runNode(t, src.Command(ctx, "node", filepath.Join(root, "web/e2e/visualtrace.mjs"), "http://"+listen, dst, string(b)), root, &logs)
}

// TestBrowserPages opens every tool page at 1440 and 390 px and checks each
// verdict against loopback servers, failing targets included (NXDOMAIN,
// REFUSED, an expected value missing, HTTP 502, a refused port), the
// permalinks, the 404 page, the hub's first-load size, axe-core, and that
// a policy refusal (403) and a rate limit (429) are shown plainly.
func TestBrowserPages(t *testing.T) {
	root, bin := browserSetup(t)
	zoneA := dnstest.NewZone(t, "example.test.", "$TTL 300\n@ IN SOA ns.example.test. h.example.test. 1 3600 600 86400 60\n@ IN NS ns\n@ IN A 192.0.2.10\nwww IN A 192.0.2.10\n@ IN MX 10 mail\n@ IN TXT \"v=spf1 -all\"\n")
	zoneB := dnstest.NewZone(t, "example.test.", "$TTL 300\n@ IN SOA ns.example.test. h.example.test. 1 3600 600 86400 60\n@ IN NS ns\n@ IN A 192.0.2.99\nwww IN A 192.0.2.99\n")
	up := dnstest.Start(t, zoneA)
	var resolvers strings.Builder
	places := []struct {
		city, cc string
		lat, lon float64
	}{{"London", "GB", 51.5, -0.12}, {"Tokyo", "JP", 35.68, 139.69}, {"São Paulo", "BR", -23.55, -46.63}}
	for i, p := range places {
		z := zoneA
		if i == 2 {
			z = zoneB
		}
		s := dnstest.Start(t, z)
		host, port, _ := net.SplitHostPort(s.Addr)
		fmt.Fprintf(&resolvers, "- {name: lab-%d, operator: Lab, ipv4: [%s], port: %s, location: {city: %s, country: %s, lat: %g, lon: %g}}\n", i+1, host, port, p.city, p.cc, p.lat, p.lon)
	}
	web := startWebTargets(t)
	dir := t.TempDir()
	rfile := filepath.Join(dir, "resolvers.yaml")
	writeFile(t, rfile, resolvers.String())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs syncBuffer
	listen, srv := startServe(ctx, t, bin, &logs, "--data", filepath.Join(dir, "data"),
		"--upstream", up.Addr, "--resolvers", rfile, "--geo-data", dir, "--allow", "127.0.0.2/32")
	defer func() { cancel(); _ = srv.Wait() }()
	runNode(t, exec.CommandContext(ctx, "node", filepath.Join(root, "web/e2e/pages.mjs"), "http://"+listen, web.http, web.tls), root, &logs)
}

type webTargets struct{ http, tls string }

// startWebTargets serves a small site on 127.0.0.2 (the only loopback
// address the test server's policy allows): a page, a slow page and a
// WebSocket echo over plain HTTP, and the same over TLS with a certificate
// no one trusts.
func startWebTargets(t *testing.T) webTargets {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		time.Sleep(40 * time.Millisecond)
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<!doctype html><title>lab</title><p>hello from the lab")
	})
	mux.HandleFunc("/502", func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "upstream connect error", http.StatusBadGateway)
	})
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		typ, msg, err := c.Read(r.Context())
		if err != nil {
			return
		}
		_ = c.Write(r.Context(), typ, append([]byte("echo: "), msg...))
		c.Close(websocket.StatusNormalClosure, "bye")
	})
	listen := func() net.Listener {
		ln, err := net.Listen("tcp", "127.0.0.2:0")
		if err != nil {
			t.Skipf("skipping: cannot listen on 127.0.0.2: %v", err)
		}
		return ln
	}
	plain := httptest.NewUnstartedServer(mux)
	plain.Listener = listen()
	plain.Start()
	t.Cleanup(plain.Close)
	secure := httptest.NewUnstartedServer(mux)
	secure.Listener = listen()
	secure.StartTLS()
	t.Cleanup(secure.Close)
	return webTargets{http: plain.Listener.Addr().String(), tls: secure.Listener.Addr().String()}
}

func writeFile(t *testing.T, name, text string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}
