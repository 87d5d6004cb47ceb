package server

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"
)

// TestMetricsPassPromtool feeds /metrics, after some traffic, to
// Prometheus's own linter.
func TestMetricsPassPromtool(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool not installed (Debian package prometheus; `make deps` installs it)")
	}
	ts := startServer(t, Config{})
	ts.get(t, "/api/v1/dns/www.example.test/A", nil)
	ts.get(t, "/api/v1/dns/www.example.test/A", nil)
	ts.get(t, "/nope", nil)
	text := ts.metricsText(t)
	for _, want := range []string{
		`dnsscience_http_requests_total{code="200",method="GET",route="GET /api/v1/dns/{name}/{type}"} 2`,
		`dnsscience_http_requests_total{code="404",method="GET",route="/"} 1`,
		"dnsscience_http_request_duration_seconds_bucket", "go_goroutines", "dnsscience_build_info{version=\"test\"} 1",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(text)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out.String())
	}
}
