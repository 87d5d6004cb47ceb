package dnstest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// StartKresd runs Knot Resolver on ip:port, resolving every query through
// upstream ("ip@port") as a stub, and waits until it answers. Nothing it
// does reaches the public root servers (priming, trust-anchor updates and
// time checks are off). It skips the test when kresd is not installed.
func StartKresd(t testing.TB, ip string, port int, upstream string) {
	t.Helper()
	if _, err := exec.LookPath("kresd"); err != nil {
		t.Skip("kresd not installed (Debian package knot-resolver, in deps/apt/dns.list; `make deps` installs it)")
	}
	dir := t.TempDir()
	conf := fmt.Sprintf(`net.listen('%s', %d, { kind = 'dns' })
for _, m in ipairs({'ta_update', 'ta_signal_query', 'priming', 'detect_time_skew', 'detect_time_jump', 'ta_sentinel'}) do pcall(modules.unload, m) end
trust_anchors.remove('.')
cache.open(10 * MB, 'lmdb://%s/cache')
policy.add(policy.all(policy.STUB({'%s'})))
`, ip, port, dir, upstream)
	cfg := filepath.Join(dir, "config")
	if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd := exec.Command("kresd", "-n", "-q", "-c", cfg, dir)
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting kresd: %v", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	c := &dns.Client{Timeout: 200 * time.Millisecond}
	m := new(dns.Msg)
	m.SetQuestion(".", dns.TypeSOA)
	addr := fmt.Sprintf("%s:%d", ip, port)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) { // poll while kresd starts
		if _, _, err := c.Exchange(m, addr); err == nil {
			return
		}
	}
	t.Fatalf("kresd did not answer on %s within 10s: %s", addr, stderr.String())
}
