package cli

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// slackReceiver records the JSON bodies posted to it.
func slackReceiver(t *testing.T) (*httptest.Server, func() []map[string]any) {
	var (
		mu     sync.Mutex
		bodies []map[string]any
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var m map[string]any
		if r.Method != http.MethodPost || json.Unmarshal(b, &m) != nil {
			http.Error(w, "invalid_payload", http.StatusBadRequest)
			return
		}
		mu.Lock()
		bodies = append(bodies, m)
		mu.Unlock()
		io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)
	return srv, func() []map[string]any { mu.Lock(); defer mu.Unlock(); return append([]map[string]any(nil), bodies...) }
}

// alertSuite writes a suite with one passing and one failing tcp check on
// loopback and a slack channel whose URL comes from $TEST_SLACK_URL.
func alertSuite(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	closed, _ := net.Listen("tcp", "127.0.0.1:0")
	closedAddr := closed.Addr().String()
	closed.Close()
	p := filepath.Join(t.TempDir(), "s.yaml")
	body := `name: staging
channels:
  - {name: ops, type: slack, url: "${TEST_SLACK_URL}"}
checks:
  - {name: open port, kind: tcp, target: "` + ln.Addr().String() + `"}
  - {name: closed port, kind: tcp, target: "` + closedAddr + `"}
`
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestAlertTestCommand(t *testing.T) {
	srv, bodies := slackReceiver(t)
	t.Setenv("TEST_SLACK_URL", srv.URL+"/services/T/B/SECRET")
	suite := alertSuite(t)
	code, out, errOut := run(t, "alert", "test", "ops", "--checks", suite)
	wantExit(t, code, 0, out, errOut)
	if got := bodies(); len(got) != 1 || !strings.HasPrefix(got[0]["text"].(string), "[TEST] dnsscience alert test for staging") {
		t.Fatalf("receiver got %v", got)
	}
	code, out, errOut = run(t, "alert", "test", "nope", "--checks", suite)
	wantExit(t, code, 2, out, errOut)
	if !strings.Contains(errOut, `no channel "nope"; channels: ops`) {
		t.Fatalf("stderr %q", errOut)
	}
	// A receiver that refuses: exit 3, and the URL's secret is not shown.
	t.Setenv("TEST_SLACK_URL", srv.URL+"/services/T/B/SECRET?x=1")
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "no_service", http.StatusNotFound) })
	code, out, errOut = run(t, "alert", "test", "ops", "--checks", suite)
	wantExit(t, code, 3, out, errOut)
	if !strings.Contains(errOut, "no_service") || strings.Contains(errOut, "SECRET") {
		t.Fatalf("stderr %q", errOut)
	}
}

func TestCheckNotify(t *testing.T) {
	srv, bodies := slackReceiver(t)
	t.Setenv("TEST_SLACK_URL", srv.URL)
	suite := alertSuite(t)
	// 50 % passes: above --min-success 40 nothing is sent.
	code, out, errOut := run(t, "check", suite, "--min-success", "40", "--notify", "ops")
	wantExit(t, code, 0, out, errOut)
	if n := len(bodies()); n != 0 {
		t.Fatalf("%d messages for a passing run", n)
	}
	code, out, errOut = run(t, "check", suite, "--min-success", "90", "--notify", "ops")
	wantExit(t, code, 1, out, errOut)
	got := bodies()
	if len(got) != 1 {
		t.Fatalf("%d messages, want one summary", len(got))
	}
	text := got[0]["text"].(string)
	if !strings.HasPrefix(text, "[FAILED] staging: 1 of 2 checks passed (50.0% < 90.0%)") || !strings.Contains(text, "FAIL closed port: ") {
		t.Fatalf("summary %q", text)
	}
	code, out, errOut = run(t, "check", suite, "--notify", "other")
	wantExit(t, code, 2, out, errOut)
}
