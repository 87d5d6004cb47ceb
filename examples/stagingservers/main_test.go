package main

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dnsscience/dnsscience/internal/cli"
)

// TestStagingSuite runs examples/staging.yaml against these servers, as
// examples/run-staging.sh does, and checks the per-check lines, the overall
// rate and that the exit status follows --min-success.
func TestStagingSuite(t *testing.T) {
	vars := startServers(t)
	for k, v := range vars {
		t.Setenv(k, v)
	}
	check := func(args ...string) (int, string) {
		var out, errOut bytes.Buffer
		cctx, ccancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer ccancel()
		argv := append([]string{"dnsscience", "check", "../staging.yaml", "--resolver", vars["RESOLVER_A"]}, args...)
		code := cli.Run(cctx, argv, strings.NewReader(""), &out, &errOut)
		if errOut.Len() > 0 {
			t.Logf("stderr: %s", errOut.String())
		}
		return code, out.String()
	}
	code, out := check()
	if code != 1 || !strings.HasSuffix(out, "Overall: 92.3% (12/13)\n") {
		t.Fatalf("got exit %d\n%s\nwant exit 1 and 12/13", code, out)
	}
	if !strings.Contains(out, "FAIL  tls app-staging") || strings.Count(out, "PASS  ") != 12 {
		t.Fatalf("want only tls app-staging failing, got\n%s", out)
	}
	if code, out := check("--min-success", "90", "--quiet"); code != 0 || strings.Count(out, "\n") != 2 {
		t.Fatalf("--min-success 90 --quiet: got exit %d\n%s", code, out)
	}
}

// startServers runs the staging until the test ends and returns its
// environment.
func startServers(t *testing.T) map[string]string {
	t.Helper()
	dir := t.TempDir()
	envFile := filepath.Join(dir, "env")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, dir, envFile, "0", "0") }()
	t.Cleanup(func() { cancel(); <-done })
	return waitEnv(t, envFile, done)
}

func waitEnv(t *testing.T, path string, done chan error) map[string]string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			t.Fatalf("servers stopped: %v", err)
		default:
		}
		if data, err := os.ReadFile(path); err == nil && len(data) > 0 {
			vars := map[string]string{}
			sc := bufio.NewScanner(bytes.NewReader(data))
			for sc.Scan() {
				k, v, _ := strings.Cut(strings.TrimPrefix(sc.Text(), "export "), "=")
				vars[k] = v
			}
			return vars
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("servers did not write their environment in 10s")
	return nil
}

// TestBrokenEndpoints: the ws command's verdicts on the staging's broken
// WebSocket endpoints, and diagnose's on /down.
func TestBrokenEndpoints(t *testing.T) {
	t.Parallel()
	vars := startServers(t)
	base := "wss://api-staging.example.test:" + vars["STAGING_PORT"]
	for _, c := range []struct {
		args []string
		exit int
		want string
	}{
		{[]string{"ws", base + "/ws"}, 0, "still open after waiting 1.0s"},
		{[]string{"ws", base + "/ws-crash"}, 1, `server closed the connection with 1011 (InternalError) "lost the database"`},
		{[]string{"ws", base + "/ws-crash-later", "--linger", "3s"}, 1, `: 1011 "lost the database"`},
		{[]string{"ws", base + "/ws-bye"}, 0, `after the upgrade: 1000 "bye"`},
		{[]string{"ws", base + "/ws-refuse"}, 1, "upgrade refused: HTTP 403"},
		{[]string{"diagnose", "--no-system", "--resolvers", vars["RESOLVER_A"], "https://api-staging.example.test:" + vars["STAGING_PORT"] + "/down"}, 1, "HTTP: 503 Service Unavailable"},
	} {
		args := append([]string{"dnsscience"}, c.args...)
		if c.args[0] == "ws" {
			args = append(args, "--connect-to", "127.0.0.1")
		}
		args = append(args, "--ca", vars["STAGING_CA"])
		var out, errOut bytes.Buffer
		cctx, ccancel := context.WithTimeout(context.Background(), 10*time.Second)
		code := cli.Run(cctx, args, strings.NewReader(""), &out, &errOut)
		ccancel()
		if code != c.exit || !strings.Contains(out.String(), c.want) {
			t.Errorf("%s: got exit %d\n%s%s\nwant exit %d and %q", strings.Join(c.args, " "), code, out.String(), errOut.String(), c.exit, c.want)
		}
	}
}
