package cli

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dnsscience/dnsscience/internal/ratelimit"
)

func TestParseRateLimit(t *testing.T) {
	good := map[string]ratelimit.Policy{
		"dns=600/1m":       {Name: "dns", Limit: 600, Window: time.Minute},
		"trace=10/m":       {Name: "trace", Limit: 10, Window: time.Minute},
		"probe=5/s":        {Name: "probe", Limit: 5, Window: time.Second},
		"scan=1000000/90s": {Name: "scan", Limit: 1000000, Window: 90 * time.Second},
	}
	for in, want := range good {
		if got, err := parseRateLimit(in); err != nil || got != want {
			t.Errorf("parseRateLimit(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	bad := map[string]string{
		"dns":          "want CLASS=N/WINDOW such as dns=600/1m, with CLASS one of diagnose, dns, geo, probe, propagation, scan, trace",
		"web=1/m":      "with CLASS one of",
		"dns=0/1m":     "a whole number of requests of at least 1",
		"dns=ten/1m":   "a whole number of requests of at least 1",
		"dns=10":       "a whole number of requests of at least 1",
		"dns=10/fort":  `window "fort": want a positive duration`,
		"dns=10/-1m":   `window "-1m": want a positive duration`,
		"dns=10/0s":    `window "0s": want a positive duration`,
		"=10/m":        "with CLASS one of",
		"dns=1.5/1m":   "a whole number",
		"dns=10/1m/2m": `window "1m/2m"`,
	}
	for in, want := range bad {
		if _, err := parseRateLimit(in); err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), fmt.Sprintf("%q", in)) {
			t.Errorf("parseRateLimit(%q) error %v; want it to quote the value and say %q", in, err, want)
		}
	}
}

func TestServeBadRateLimitAndLogLevel(t *testing.T) {
	for _, args := range [][]string{
		{"serve", "--rate-limit", "dns=fast"},
		{"serve", "--log-level", "loud"},
	} {
		_, stderr, code := runCLI(t, args...)
		if code != ExitUsage || !strings.Contains(stderr, args[1]) {
			t.Errorf("%v: exit %d stderr %q, want exit 2 naming %s", args, code, stderr, args[1])
		}
	}
}

// TestServeRateLimitFlag starts serve with a raised dns quota and a quiet
// log, and checks the quota a DNS answer announces and that no access log
// line was written.
func TestServeRateLimitFlag(t *testing.T) {
	dir := t.TempDir()
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, []string{"dnsscience", "serve", "--listen", addr, "--data", filepath.Join(dir, "data"),
			"--upstream", "127.0.0.1:53", "--geo-data", dir, "--rate-limit", "dns=5000/1m", "--rate-limit", "dns=7000/1m",
			"--log-level", "warn"}, strings.NewReader(""), &out, &errb)
	}()
	var resp *http.Response
	deadline := time.Now().Add(10 * time.Second)
	for {
		var err error
		// A bad name: refused before any query, but after the rate limit.
		resp, err = http.Get("http://" + addr + "/api/v1/dns/bad..name/A")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("server did not come up: %v\n%s", err, errb.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("serve exited %d: %s", code, errb.String())
	}
	if got := resp.Header.Get("X-RateLimit-Limit"); got != "7000" {
		t.Errorf("X-RateLimit-Limit %q, want 7000 (the last --rate-limit dns=... wins)", got)
	}
	if strings.Contains(errb.String(), `"msg":"request"`) {
		t.Errorf("access log written at --log-level warn: %s", errb.String())
	}
}
