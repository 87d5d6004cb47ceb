//go:build linux

package server

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/dnsscience/dnsscience/internal/pgtest"
	"github.com/dnsscience/dnsscience/internal/store"
	"github.com/dnsscience/dnsscience/internal/testbin"
)

// Tests of several real `serve` processes sharing one PostgreSQL (and the
// machine's NATS): each process is the built binary.

// scalePostgres returns a DSN of a new schema of the test database.
func scalePostgres(t *testing.T) string { return pgtest.URL(t, "dnss_scale") }

// needNATS skips t when the machine's NATS server is not running.
func needNATS(t *testing.T) {
	t.Helper()
	c, err := net.DialTimeout("tcp", "127.0.0.1:4222", time.Second)
	if err != nil {
		t.Skipf("no NATS server at 127.0.0.1:4222 (%v): several servers share it; .ci/run starts it", err)
	}
	c.Close()
}

// node is one serve process of a scale-out test.
type node struct {
	t    *testing.T
	bin  string
	args []string
	logs *syncBuffer
	addr string
	cmd  *exec.Cmd
}

// startNode starts `serve` with its own data directory and server id on
// the shared store; it is killed when the test ends.
func startNode(t *testing.T, dsn, id string, extra ...string) *node {
	t.Helper()
	n := &node{t: t, bin: testbin.Path(t), logs: &syncBuffer{}}
	n.args = append([]string{"--db", dsn, "--data", t.TempDir(), "--server-id", id, "--allow", "127.0.0.0/8",
		"--upstream", "127.0.0.1:1", "--log-level", "warn"}, extra...)
	n.start()
	return n
}

func (n *node) start() {
	ctx, cancel := context.WithCancel(context.Background())
	n.addr, n.cmd = startServe(ctx, n.t, n.bin, n.logs, n.args...)
	cmd := n.cmd
	n.t.Cleanup(func() { cancel(); _ = cmd.Wait() })
}

// kill9 kills the process with SIGKILL and waits for it.
func (n *node) kill9() {
	n.t.Helper()
	if err := n.cmd.Process.Kill(); err != nil {
		n.t.Fatal(err)
	}
	_ = n.cmd.Wait()
}

func (n *node) url(path string) string { return "http://" + n.addr + path }

// silentListener accepts connections and never answers: an HTTP probe of
// it runs until its timeout.
func silentListener(t *testing.T) net.Addr {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	return ln.Addr()
}

// postHTTP creates an HTTP measurement of a silent target on n, with a
// timeout, and returns its id.
func postHTTP(t *testing.T, n *node, target net.Addr, timeout string) string {
	t.Helper()
	body := fmt.Sprintf(`{"type":"http","target":"http://%s/","options":{"timeout":%q}}`, target, timeout)
	resp, err := http.Post(n.url("/api/v1/measurements"), "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m struct{ ID string }
	_ = json.NewDecoder(resp.Body).Decode(&m)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST: %d", resp.StatusCode)
	}
	return m.ID
}

// startSlow creates a long HTTP measurement on n and returns its id once
// its stream says it runs.
func startSlow(t *testing.T, n *node, target net.Addr) string {
	t.Helper()
	id := postHTTP(t, n, target, "25s")
	stream, err := http.Get(n.url("/api/v1/measurements/" + id + "/stream"))
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Body.Close()
	sc := bufio.NewScanner(stream.Body)
	for sc.Scan() && !strings.Contains(sc.Text(), `"running"`) {
	}
	return id
}

// measurement reads a measurement's status and error through n.
func measurement(t *testing.T, n *node, id string) (status, reason string) {
	t.Helper()
	resp, err := http.Get(n.url("/api/v1/measurements/" + id))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m struct{ Status, Error string }
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m.Status, m.Error
}

// TestServersFailOnlyTheirOwnMeasurements: two servers share PostgreSQL.
// A measurement runs on A; B restarting (after kill -9) leaves it running;
// A killed with -9 has it failed by B once A's lease ends; A restarting
// fails its own unfinished rows at once.
func TestServersFailOnlyTheirOwnMeasurements(t *testing.T) {
	t.Parallel()
	dsn := scalePostgres(t)
	silent := silentListener(t)
	a := startNode(t, dsn, "srv-a", "--server-lease", "2s")
	b := startNode(t, dsn, "srv-b", "--server-lease", "2s")
	onA := startSlow(t, a, silent)
	onB := startSlow(t, b, silent)

	b.kill9()
	b.start()
	if st, why := measurement(t, b, onA); st != store.StatusRunning {
		t.Fatalf("after server B restarted, A's measurement is %s %q, want still running", st, why)
	}
	if st, why := measurement(t, b, onB); st != store.StatusFailed || !strings.Contains(why, "killed or crashed") {
		t.Errorf("after server B restarted, its own measurement is %s %q, want failed as crashed", st, why)
	}

	a.kill9()
	// B's lease sweep (every lease/3) notices A's lease ending (2 s).
	deadline := time.Now().Add(15 * time.Second)
	for {
		st, why := measurement(t, b, onA)
		if st == store.StatusFailed {
			if !strings.Contains(why, "server srv-a stopped") {
				t.Errorf("A's measurement failed with %q, want it to name server srv-a", why)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("15 s after A was killed its measurement is %s on B, want failed once A's lease ended\nlogs:\n%s", st, b.logs.String())
		}
		time.Sleep(100 * time.Millisecond) // polling another process's sweep
	}
}

// TestRateLimitsHoldAcrossServers: two servers sharing NATS count one
// quota: ten traces spread over both are accepted, the eleventh is
// refused by either.
func TestRateLimitsHoldAcrossServers(t *testing.T) {
	t.Parallel()
	needNATS(t)
	dsn := scalePostgres(t)
	a := startNode(t, dsn, "rl-a", "--nats", "nats://127.0.0.1:4222")
	b := startNode(t, dsn, "rl-b", "--nats", "nats://127.0.0.1:4222")
	post := func(n *node) (int, http.Header) {
		t.Helper()
		resp, err := http.Post(n.url("/api/v1/measurements"), "application/json",
			strings.NewReader(`{"type":"trace","target":"127.0.0.1","options":{"max_hops":2}}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header
	}
	for i := range 10 {
		n := a
		if i%2 == 1 {
			n = b
		}
		if code, h := post(n); code != http.StatusAccepted {
			t.Fatalf("trace %d on server %d: %d (remaining %s), want 202", i+1, i%2, code, h.Get("X-RateLimit-Remaining"))
		}
	}
	for name, n := range map[string]*node{"A": a, "B": b} {
		code, h := post(n)
		if code != http.StatusTooManyRequests || h.Get("Retry-After") == "" {
			t.Errorf("11th trace on server %s: %d (Retry-After %q), want 429 with Retry-After", name, code, h.Get("Retry-After"))
		}
	}
}

// TestLiveStreamAcrossServers: a client streaming from server B a
// measurement that runs on server A gets its live events (the ones so
// far, then the result as it happens), not only the stored result.
func TestLiveStreamAcrossServers(t *testing.T) {
	t.Parallel()
	needNATS(t)
	dsn := scalePostgres(t)
	silent := silentListener(t)
	a := startNode(t, dsn, "ls-a", "--nats", "nats://127.0.0.1:4222")
	b := startNode(t, dsn, "ls-b", "--nats", "nats://127.0.0.1:4222")
	id := postHTTP(t, a, silent, "3s")
	stream, err := http.Get(b.url("/api/v1/measurements/" + id + "/stream"))
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Body.Close()
	var kinds []string
	var last string
	sc := bufio.NewScanner(stream.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if k, ok := strings.CutPrefix(line, "event: "); ok {
			kinds = append(kinds, k)
		}
		if d, ok := strings.CutPrefix(line, "data: "); ok {
			last = d
		}
	}
	if len(kinds) < 2 || kinds[0] != "status" || kinds[len(kinds)-1] != "result" {
		t.Fatalf("events on B: %v, want the live ones from A (status ... result)\nA:\n%s\nB:\n%s", kinds, a.logs, b.logs)
	}
	if !strings.Contains(last, id) || !strings.Contains(last, `"status":"finished"`) || !strings.Contains(last, "timed out after 3s") {
		t.Errorf("last event on B: %s, want A's result (finished, the probe timed out)", last)
	}
}
