package cli

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/dnsscience/dnsscience/internal/certtest"
	"github.com/dnsscience/dnsscience/internal/dnsq"
	"github.com/dnsscience/dnsscience/internal/dnstest"
	"github.com/miekg/dns"
)

// The staging: Debian's knotd serves the delegation (root on .71, test. on
// .72, staging.test. on .73 and .74 — where lame.test. is delegated but not
// served) and a stale view of staging.test. without api (.77); Knot
// Resolver (kresd) resolves through the authoritative servers (.82) and
// through the lame one (.83); in-process servers stand in for a silent
// resolver, one that answers SERVFAIL by itself and a root behind a firewall
// that drops DNS. The TLS front on .75 picks the certificate by SNI; .78
// refuses connections and .79 drops them (a listener whose queue is full).
const (
	stRoot, stTLD, stAuth, stLame = "127.0.0.71", "127.0.0.72", "127.0.0.73", "127.0.0.74"
	stFront, stStale              = "127.0.0.75", "127.0.0.77"
	stRefused, stBlackhole        = "127.0.0.78", "127.0.0.79"
	stResolver, stLameResolver    = "127.0.0.82", "127.0.0.83"
)

const stSOA = "$TTL 300\n@ SOA ns hostmaster 1 3600 600 86400 60\n"

var stZones = map[string]string{
	"root": stSOA + `
@ NS a.root.test.
test. NS ns.tld.test.
ns.tld.test. A ` + stTLD + `
a.root.test. A ` + stRoot + `
`,
	"test": stSOA + `
@ NS ns.tld.test.
ns.tld.test. A ` + stTLD + `
a.root.test. A ` + stRoot + `
staging NS ns1.staging.test.
ns1.staging A ` + stAuth + `
lame NS ns1.lame.test.
ns1.lame A ` + stLame + `
`,
	"staging": stSOA + `
@ NS ns1
ns1 A ` + stAuth + `
api A ` + stFront + `
expired A ` + stFront + `
wrong A ` + stFront + `
chainless A ` + stFront + `
refused A ` + stRefused + `
blackhole A ` + stBlackhole + `
`,
}

type staging struct {
	dnsPort                    int
	httpsPort                  string
	caFile                     string
	view, lameView             string // kresd, through the authoritative servers or the lame one
	stale                      string // a knotd view
	silentA, silentB, servfail string // in-process stand-ins
	roots, droppedRoots        string // --roots values
}

func startStaging(t *testing.T) *staging {
	t.Helper()
	if _, err := exec.LookPath("knotd"); err != nil {
		t.Skip("knotd not installed (Debian package knot; `make deps` installs it)")
	}
	if _, err := exec.LookPath("kresd"); err != nil {
		t.Skip("kresd not installed (Debian package knot-resolver; `make deps` installs it)")
	}
	st := &staging{dnsPort: freePortOn(t, stRoot)}
	p := st.dnsPort
	stale := strings.Replace(stZones["staging"], "api A "+stFront+"\n", "", 1)
	knots := []struct {
		name    string
		listen  []string
		domains map[string]string
	}{
		{"root", []string{stRoot}, map[string]string{".": stZones["root"]}},
		{"tld", []string{stTLD}, map[string]string{"test.": stZones["test"]}},
		{"auth", []string{stAuth, stLame}, map[string]string{"staging.test.": stZones["staging"]}},
		{"stale", []string{stStale}, map[string]string{"staging.test.": stale}},
	}
	for _, k := range knots {
		startKnotd(t, k.name, k.listen, p, k.domains)
	}
	startKresd(t, stResolver, p, fmt.Sprintf("%s@%d", stAuth, p))
	startKresd(t, stLameResolver, p, fmt.Sprintf("%s@%d", stLame, p))
	for _, ip := range []string{stRoot, stTLD, stAuth, stStale, stResolver, stLameResolver} {
		waitDNS(t, net.JoinHostPort(ip, strconv.Itoa(p)))
	}
	st.view, st.stale = fmt.Sprintf("%s:%d", stResolver, p), fmt.Sprintf("%s:%d", stStale, p)
	st.lameView = fmt.Sprintf("%s:%d", stLameResolver, p)
	st.roots = fmt.Sprintf("%s:%d", stRoot, p)
	st.silentA = dnstest.Start(t, dnstest.Silent()).Addr
	st.silentB = dnstest.StartOn(t, "127.0.0.2", dnstest.Silent()).Addr
	st.servfail = dnstest.Start(t, dnstest.Rcode(dns.RcodeServerFailure)).Addr
	st.droppedRoots = dnstest.StartOn(t, "127.0.0.81", dnstest.Silent()).Addr
	st.httpsPort, st.caFile = startFront(t)
	startBlackhole(t, stBlackhole, st.httpsPort)
	return st
}

// freePortOn is a port free for TCP and UDP on ip.
func freePortOn(t *testing.T, ip string) int {
	t.Helper()
	for range 20 {
		pc, err := net.ListenPacket("udp", ip+":0")
		if err != nil {
			t.Fatal(err)
		}
		port := pc.LocalAddr().(*net.UDPAddr).Port
		pc.Close()
		if l, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(port))); err == nil {
			l.Close()
			return port
		}
	}
	t.Fatal("no free port")
	return 0
}

func startKnotd(t *testing.T, name string, listen []string, port int, domains map[string]string) {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "db"), 0o755); err != nil {
		t.Fatal(err)
	}
	var conf strings.Builder
	conf.WriteString("server:\n    rundir: " + dir + "\n    listen: [")
	for i, ip := range listen {
		if i > 0 {
			conf.WriteString(", ")
		}
		fmt.Fprintf(&conf, "%s@%d", ip, port)
	}
	conf.WriteString("]\n")
	if os.Geteuid() == 0 {
		conf.WriteString("    user: root\n")
	}
	fmt.Fprintf(&conf, "database:\n    storage: %s/db\nlog:\n  - target: stderr\n    any: warning\nzone:\n", dir)
	for origin, text := range domains {
		base := strings.Trim(origin, ".")
		if base == "" {
			base = "root"
		}
		file := filepath.Join(dir, base+".zone")
		if err := os.WriteFile(file, []byte("$ORIGIN "+origin+"\n"+text), 0o644); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&conf, "  - domain: %q\n    file: %s\n    storage: %s\n", origin, file, dir)
	}
	cfg := filepath.Join(dir, "knot.conf")
	if err := os.WriteFile(cfg, []byte(conf.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd := exec.Command("knotd", "-c", cfg)
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting knotd %s: %v", name, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() && stderr.Len() > 0 {
			t.Logf("knotd %s: %s", name, stderr.String())
		}
	})
}

// startKresd runs Knot Resolver on ip:port, sending every query to
// upstream (ip@port) as a stub (dnstest.StartKresd).
func startKresd(t *testing.T, ip string, port int, upstream string) {
	t.Helper()
	dnstest.StartKresd(t, ip, port, upstream)
}

// waitDNS waits until the server at addr answers a query.
func waitDNS(t *testing.T, addr string) {
	t.Helper()
	c := &dnsq.Client{Timeout: 100 * time.Millisecond, Tries: 1}
	srv := dnsq.Server{Transport: dnsq.UDP, Addr: addr}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := c.Exchange(context.Background(), srv, dnsq.Query{Name: ".", Type: dns.TypeSOA})
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("knotd on %s did not answer within 10s: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// startFront serves the staging's HTTPS and WebSocket endpoints on
// stFront with a certificate chosen by SNI; it returns the port (free on
// the refused and blackhole addresses too) and the CA file.
func startFront(t *testing.T) (string, string) {
	t.Helper()
	ca := certtest.NewCA(t, "Staging Root")
	inter := ca.Intermediate(t, "Staging Issuing CA")
	day := 24 * time.Hour
	certs := map[string]tls.Certificate{
		"api.staging.test":       ca.Leaf(t, "api.staging.test"),
		"expired.staging.test":   ca.LeafValid(t, time.Now().Add(-100*day), time.Now().Add(-3*day-time.Hour), "expired.staging.test"),
		"wrong.staging.test":     ca.Leaf(t, "other.staging.test"),
		"chainless.staging.test": inter.Leaf(t, "chainless.staging.test"), // the intermediate is not served
	}
	var l net.Listener
	for range 20 {
		port := strconv.Itoa(freePortOn(t, stFront))
		if free(stRefused, port) && free(stBlackhole, port) {
			var err error
			if l, err = net.Listen("tcp", net.JoinHostPort(stFront, port)); err == nil {
				break
			}
		}
	}
	if l == nil {
		t.Fatal("no port free on the front, refused and blackhole addresses")
	}
	srv := &http.Server{Handler: frontRoutes(), ErrorLog: log.New(io.Discard, "", 0), ReadHeaderTimeout: 5 * time.Second,
		TLSConfig: &tls.Config{GetCertificate: func(h *tls.ClientHelloInfo) (*tls.Certificate, error) {
			c, ok := certs[h.ServerName]
			if !ok {
				c = certs["api.staging.test"]
			}
			return &c, nil
		}}}
	go func() { _ = srv.ServeTLS(l, "", "") }()
	t.Cleanup(func() { _ = srv.Close() })
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port, ca.WriteCAFile(t)
}

func free(ip, port string) bool {
	l, err := net.Listen("tcp", net.JoinHostPort(ip, port))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// frontRoutes: /health, /down (503), and WebSocket endpoints /ws (stays
// open), /ws-refuse (no upgrade), /ws-1011 (closes at once), /ws-1011-2s
// (closes two seconds after the upgrade), /ws-1000 (closes normally at once).
func frontRoutes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/health", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, `{"status":"ok"}`) })
	mux.HandleFunc("/down", func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "no healthy upstream", http.StatusServiceUnavailable)
	})
	mux.HandleFunc("/ws-refuse", func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "websockets disabled", http.StatusForbidden)
	})
	ws := func(path string, after time.Duration, code websocket.StatusCode, reason string) {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			c, err := websocket.Accept(w, r, nil)
			if err != nil {
				return
			}
			defer c.CloseNow()
			if code == 0 { // stay open until the client goes
				_, _, _ = c.Read(r.Context())
				return
			}
			select {
			case <-time.After(after):
				_ = c.Close(code, reason)
			case <-r.Context().Done():
			}
		})
	}
	ws("/ws", 0, 0, "")
	ws("/ws-1011", 0, websocket.StatusInternalError, "lost the database")
	ws("/ws-1011-2s", 2*time.Second, websocket.StatusInternalError, "lost the database")
	ws("/ws-1000", 0, websocket.StatusNormalClosure, "bye")
	return mux
}

// startBlackhole listens on ip:port with a backlog of 0 and fills the
// queue, so later connection attempts are dropped and time out, as behind a
// firewall that drops packets.
func startBlackhole(t *testing.T, ip, port string) {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(fd), "blackhole")
	t.Cleanup(func() { f.Close() })
	n, _ := strconv.Atoi(port)
	addr := [4]byte(net.ParseIP(ip).To4())
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Port: n, Addr: addr}); err != nil {
		t.Fatalf("binding the blackhole: %v", err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	for range 4 {
		c, err := net.DialTimeout("tcp", net.JoinHostPort(ip, port), 200*time.Millisecond)
		if err != nil {
			return // the queue is full: SYNs are dropped from now on
		}
		t.Cleanup(func() { c.Close() })
	}
	t.Fatal("the blackhole listener kept accepting connections")
}

// slack is added to every upper time bound: CPU time under -race on a
// loaded machine, not waiting.
const slack = time.Second

type stagingCase struct {
	name     string
	args     []string
	exit     int
	want     []string
	not      []string
	min, max time.Duration
}

// TestStagingVerdicts breaks each layer of the staging in turn and checks
// the verdict, the exit status and the time `diagnose` and `ws` take.
func TestStagingVerdicts(t *testing.T) {
	st := startStaging(t)
	https := func(host, path string) string { return "https://" + host + ".staging.test:" + st.httpsPort + path }
	wss := func(path string) string { return "wss://api.staging.test:" + st.httpsPort + path }
	diag := func(timeout string, resolvers ...string) []string {
		return []string{"diagnose", "--no-system", "--resolvers", strings.Join(resolvers, ","), "--ca", st.caFile, "--roots", st.roots, "--timeout", timeout}
	}
	both := diag("2s", st.view, st.stale)
	good := diag("2s", st.view)
	ws := []string{"ws", "--connect-to", stFront, "--ca", st.caFile}
	sec := time.Second
	cases := []stagingCase{
		{name: "healthy https", args: append(good, https("api", "/health")), exit: 0, want: []string{"Verdict: healthy, every layer answered"}, max: sec},
		{name: "healthy wss", args: append(good, wss("/ws")), exit: 0, want: []string{"WebSocket  ok", "still open after 1.", "Verdict: healthy"}, min: sec, max: 2 * sec},
		{name: "NXDOMAIN on one resolver", args: append(both, https("api", "/health")), exit: 1,
			want: []string{"problem:      DNS: resolvers disagree: " + st.stale + " answer NXDOMAIN, " + st.view + " → " + stFront}, max: sec},
		{name: "NXDOMAIN on all", args: append(both, https("missing", "/")), exit: 1,
			want: []string{"problem:      DNS: missing.staging.test does not exist: NXDOMAIN from 2 resolvers; delegation . → test. → staging.test.: staging.test. at ns1.staging.test. (" + stAuth + "#",
				"next:         check the zone for the name; dnsscience dig --trace missing.staging.test"}, not: []string{"dnsscience trace"}, max: sec},
		{name: "lame delegation", args: append(diag("2s", st.lameView), "https://www.lame.test:"+st.httpsPort+"/"), exit: 1,
			want: []string{st.lameView + ": REFUSED for www.lame.test; delegation . → test. → lame.test.: trace failed: none of 1 servers for lame.test. answered usably; ", "lame ns1.lame.test. (" + stLame + "): answered REFUSED",
				"likely cause: the authoritative servers are unreachable or lame", "dnsscience dig --trace www.lame.test --all-servers"},
			not: []string{"trace failed: trace failed"}, max: sec},
		{name: "one resolver SERVFAIL, authoritative answering", args: append(diag("2s", st.view, st.servfail), https("api", "/health")), exit: 1,
			want: []string{"DNS: " + st.servfail + " answer SERVFAIL for api.staging.test, but the authoritative servers answer " + stFront,
				"likely cause: the resolver itself fails"}, not: []string{"authoritative servers are unreachable"}, max: sec},
		{name: "one resolver silent", args: append(diag("2s", st.view, st.silentA), https("api", "/health")), exit: 1,
			want: []string{"problem:      DNS: no answer from " + st.silentA + ": timed out after 1s (2 tries); api.staging.test → " + stFront,
				st.silentA + ": timed out after 1s (2 tries)\n", "TLS        ok"}, not: []string{"(2 tries) ("}, min: sec, max: 2 * sec},
		{name: "one resolver silent, the other NXDOMAIN", args: append(diag("2s", st.stale, st.silentA), https("missing", "/")), exit: 1,
			want: []string{"DNS: missing.staging.test does not exist: NXDOMAIN from 1 resolver; no answer from " + st.silentA + ": timed out after 1s (2 tries); delegation . → test. → staging.test."},
			not:  []string{"disagree", ", ;"}, min: sec, max: 2 * sec},
		{name: "stale NXDOMAIN while the authoritative servers answer", args: append(diag("2s", st.stale), https("api", "/health")), exit: 1,
			want: []string{"DNS: api.staging.test does not exist for 1 resolver: NXDOMAIN, but the authoritative servers answer " + stFront, "negative caching"}, max: sec},
		{name: "all resolvers silent, DNS dropped", args: []string{"diagnose", "--no-system", "--resolvers", st.silentA + "," + st.silentB,
			"--roots", st.droppedRoots, "--timeout", "5s", https("api", "/health")}, exit: 1,
			// The trace ends at the deadline or when the one root timed out twice (2.5s), whichever is first.
			want: []string{"problem:      DNS: no resolver answered: " + st.silentA + ": timed out after 2.5s (2 tries); " + st.silentB + ": timed out after 2.5s (2 tries); delegation from the root: trace failed: "},
			not:  []string{"deadline", "i/o timeout"}, min: 4 * sec, max: 5500 * time.Millisecond},
		{name: "all resolvers silent, internal name, public roots", args: []string{"diagnose", "--no-system", "--resolvers", st.silentA, "--timeout", "2s", https("api", "/health")}, exit: 1,
			want: []string{"delegation not traced: api.staging.test is an internal name, not sent to the public roots"}, max: 2500 * time.Millisecond},
		{name: "expired certificate", args: append(good, https("expired", "/health")), exit: 1,
			want: []string{`problem:      TLS: leaf certificate "expired.staging.test" expired 3 days ago`}, max: sec},
		{name: "wrong-host certificate", args: append(good, https("wrong", "/health")), exit: 1,
			want: []string{"problem:      TLS: certificate for other.staging.test does not cover wrong.staging.test"}, max: sec},
		{name: "chain-less certificate", args: append(good, https("chainless", "/health")), exit: 1,
			want: []string{"Verdict: TLS failed", `"Staging Issuing CA"`, "likely cause: the chain does not lead to the CA that was given (--ca)"}, not: []string{"pass the CA with --ca"}, max: sec},
		{name: "503", args: append(good, https("api", "/down")), exit: 1,
			want: []string{`problem:      HTTP: 503 Service Unavailable from ` + https("api", "/down") + ` (body: "no healthy upstream")`}, max: sec},
		{name: "refused", args: append(good, https("refused", "/")), exit: 1, want: []string{"problem:      TCP: connection to " + stRefused + " refused"}, max: sec},
		{name: "blackholed", args: append(good, https("blackhole", "/")), exit: 1,
			want: []string{"problem:      TCP: no answer from " + stBlackhole + ":" + st.httpsPort + ": timed out after 2s", "next:         check firewall rules and security groups for port " + st.httpsPort + "; dnsscience trace --proto tcp --port " + st.httpsPort + " " + stBlackhole + " shows"}, min: 2 * sec, max: 2500 * time.Millisecond},
		{name: "upgrade refused", args: append(good, wss("/ws-refuse")), exit: 1, want: []string{"problem:      WebSocket: upgrade refused with HTTP 403"}, max: sec},
		{name: "1011 at once", args: append(good, wss("/ws-1011")), exit: 1,
			want: []string{`problem:      WebSocket: upgrade accepted, then the server closed with 1011 ("lost the database")`}, max: sec},
		{name: "1011 after 2s, linger 3s", args: append(good, "--linger", "3s", wss("/ws-1011-2s")), exit: 1,
			want: []string{`WebSocket: upgrade accepted, then the server closed with 1011 ("lost the database") `}, min: 2 * sec, max: 3 * sec},
		{name: "1011 after 2s, default linger", args: append(good, wss("/ws-1011-2s")), exit: 0, want: []string{"still open after 1."}, min: sec, max: 2 * sec},
		{name: "1000 at once", args: append(good, wss("/ws-1000")), exit: 0,
			want: []string{`WebSocket  WARN`, `then the server closed normally with 1000 ("bye")`, "Verdict: healthy, with warnings (WebSocket)"}, not: []string{"stayed open", "still open"}, max: sec},
		{name: "1000 at once, strict", args: append(good, "--strict", wss("/ws-1000")), exit: 1, want: []string{"Verdict: WebSocket warning (--strict)"}, max: sec},
		{name: "ws healthy", args: append(ws, wss("/ws")), exit: 0, want: []string{"OK WS", "still open after waiting 1."}, min: sec, max: 2 * sec},
		{name: "ws 1011 at once", args: append(ws, wss("/ws-1011")), exit: 1,
			want: []string{`failed at message: server closed the connection with 1011 (InternalError) "lost the database"`, "closed by server"}, max: sec},
		{name: "ws 1011 after 2s, linger 3s", args: append(ws, "--linger", "3s", wss("/ws-1011-2s")), exit: 1,
			want: []string{"closed by server ", `after the upgrade: 1011 "lost the database"`}, min: 2 * sec, max: 3 * sec},
		{name: "ws --linger 0 misses a close after 2s", args: append(ws, "--linger", "0", wss("/ws-1011-2s")), exit: 0, want: []string{"OK WS", "  closed by client\n"}, max: sec},
		{name: "ws 1000 at once", args: append(ws, wss("/ws-1000")), exit: 0, want: []string{"OK WS", `after the upgrade: 1000 "bye"`}, max: sec},
		{name: "ws upgrade refused", args: append(ws, wss("/ws-refuse")), exit: 1, want: []string{"failed at upgrade: opening", "upgrade refused: HTTP 403"}, max: sec},
	}
	// The slow runs wait on timeouts and lingers, not on the CPU: they all
	// run at once (t.Parallel would run only GOMAXPROCS of them at a time);
	// the quick ones, which are mostly handshakes, four at a time, so that
	// each is timed rather than the machine's load (-race on two cores).
	type outcome struct {
		code        int
		out, errOut string
		took        time.Duration
	}
	got := make([]outcome, len(cases))
	quick := make(chan struct{}, 4)
	var wg sync.WaitGroup
	for i, c := range cases {
		wg.Go(func() {
			if c.max <= time.Second {
				quick <- struct{}{}
				defer func() { <-quick }()
			}
			start := time.Now()
			code, out, errOut := run(t, c.args...)
			got[i] = outcome{code, out, errOut, time.Since(start)}
		})
	}
	wg.Wait()
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := got[i]
			wantExit(t, g.code, c.exit, g.out, g.errOut)
			for _, w := range c.want {
				if !strings.Contains(g.out, w) {
					t.Errorf("missing %q", w)
				}
			}
			for _, n := range c.not {
				if strings.Contains(g.out, n) {
					t.Errorf("unwanted %q", n)
				}
			}
			if g.took < c.min || g.took > c.max+slack {
				t.Errorf("took %s, want between %s and %s (+%s for a loaded machine)", g.took, c.min, c.max, slack)
			}
			if t.Failed() {
				t.Logf("dnsscience %s\n%s", strings.Join(c.args, " "), g.out)
			}
		})
	}
}
