package cli

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// writeSuite writes a suite of six checks against s, one of which fails
// (the /fail endpoint answers 503), and returns its path.
func writeSuite(t *testing.T, s *testSite) string {
	t.Helper()
	text := fmt.Sprintf(`name: cli
defaults:
  timeout: 5s
  ca: %s
checks:
  - name: health
    kind: http
    target: https://api.example.test:%[2]s/health
    options: {connect_to: 127.0.0.1}
    conditions: [status == 200, body.json.status == "ok"]
  - name: backend
    kind: http
    target: https://api.example.test:%[2]s/fail
    options: {connect_to: 127.0.0.1}
    conditions: [status == 200]
  - name: cert
    kind: cert
    target: api.example.test:%[2]s
    options: {connect_to: 127.0.0.1}
    conditions: [cert.expires_in > 14d]
  - name: socket
    kind: ws
    target: wss://api.example.test:%[2]s/ws
    options: {connect_to: 127.0.0.1, send: hi, expect: "echo: hi"}
  - name: port
    kind: tcp
    target: 127.0.0.1:%[2]s
  - name: pinned
    kind: http
    target: https://127.0.0.1:%[2]s/health
    options: {host: api.example.test}
`, s.caFile, s.port)
	path := filepath.Join(t.TempDir(), "suite.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

var durRe = regexp.MustCompile(`\s+[0-9.]+ms`)

func TestCheckCommand(t *testing.T) {
	s := startSite(t, goodCert(t))
	suite := writeSuite(t, s)
	code, out, errOut := run(t, "check", suite)
	wantExit(t, code, 1, out, errOut)
	got := durRe.ReplaceAllString(out, " D")
	want := `PASS  health D
FAIL  backend D  status == 200 (got status=503)
PASS  cert D
PASS  socket D
PASS  port D
PASS  pinned D
Overall: 83.3% (5/6)
`
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	code, out, errOut = run(t, "check", suite, "--min-success", "80")
	wantExit(t, code, 0, out, errOut)
	code, out, errOut = run(t, "check", suite, "--min-success", "90", "--quiet")
	wantExit(t, code, 1, out, errOut)
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 2 || !strings.HasPrefix(lines[0], "FAIL  backend") {
		t.Fatalf("quiet: got\n%s", out)
	}
}

func TestCheckCommandOutputs(t *testing.T) {
	s := startSite(t, goodCert(t))
	suite := writeSuite(t, s)
	code, out, errOut := run(t, "check", suite, "--output", "json")
	wantExit(t, code, 1, out, errOut)
	var rep struct {
		Results []struct {
			Name   string
			Pass   bool
			Line   int
			Failed []struct{ Condition, Actual string }
		}
		Summary struct {
			Passed, Total int
			Rate          float64 `json:"rate_percent"`
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("bad JSON: %v\n%s", err, out)
	}
	if rep.Summary.Passed != 5 || rep.Summary.Total != 6 || rep.Results[1].Line != 11 || rep.Results[1].Failed[0].Actual != "status=503" {
		t.Fatalf("got %+v", rep)
	}
	code, out, errOut = run(t, "--json", "check", suite, "--min-success", "50")
	wantExit(t, code, 0, out, errOut)
	if !json.Valid([]byte(out)) {
		t.Fatalf("--json: got %s", out)
	}
	code, out, errOut = run(t, "check", suite, "-o", "junit")
	wantExit(t, code, 1, out, errOut)
	var ju struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Suites   []struct {
			Cases []struct {
				Name    string `xml:"name,attr"`
				Failure *struct {
					Message string `xml:"message,attr"`
				} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal([]byte(out), &ju); err != nil {
		t.Fatalf("bad XML: %v\n%s", err, out)
	}
	if ju.Tests != 6 || ju.Failures != 1 || len(ju.Suites) != 1 || ju.Suites[0].Cases[1].Failure == nil ||
		ju.Suites[0].Cases[1].Failure.Message != "status == 200 (got status=503)" {
		t.Fatalf("got %+v", ju)
	}
}

func TestCheckCommandBadInput(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("checks:\n  - name: a\n    kind: http\n    target: https://a.test/\n    conditions: [status => 200]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run(t, "check", bad)
	wantExit(t, code, 2, out, errOut)
	want := fmt.Sprintf("dnsscience: bad suite: %s:5: check \"a\": condition \"status => 200\": column 8: unexpected \"=\"; use == to compare\n", bad)
	if errOut != want {
		t.Fatalf("got  %q\nwant %q", errOut, want)
	}
	for _, args := range [][]string{
		{"check", "/nonexistent.yaml"},
		{"check", bad, "--min-success", "101"},
		{"check", bad, "--output", "xml"},
		{"check"},
	} {
		code, out, errOut := run(t, args...)
		wantExit(t, code, 2, out, errOut)
	}
}

// lineWriter sends each write to a channel, for a test that reads output
// while the command runs.
type lineWriter chan string

func (w lineWriter) Write(p []byte) (int, error) {
	w <- string(p)
	return len(p), nil
}

func TestCheckWatchPrintsStateChanges(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens: every run fails
	path := filepath.Join(t.TempDir(), "w.yaml")
	suite := "checks:\n  - {name: closed port, kind: tcp, target: " + addr + ", interval: 1s, failure_threshold: 2, options: {timeout: 1s}}\n"
	if err := os.WriteFile(path, []byte(suite), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	out := make(lineWriter, 10)
	done := make(chan int, 1)
	go func() { done <- Run(ctx, []string{"dnsscience", "check", "--watch", path}, nil, out, io.Discard) }()
	next := func() string {
		select {
		case l := <-out:
			return l
		case code := <-done:
			t.Fatalf("check --watch ended with %d", code)
		}
		return ""
	}
	if first := next(); !strings.HasPrefix(first, "watching 1 checks") {
		t.Errorf("first line %q", first)
	}
	line := next()
	cancel()
	if !regexp.MustCompile(`^\S+Z  pending  → down         closed port  \(2 failing runs in a row\): .*refused`).MatchString(line) {
		t.Errorf("state change line %q; want pending → down after 2 failures with the error", line)
	}
	if code := <-done; code != 0 {
		t.Errorf("exit code %d after interrupt, want 0", code)
	}
}
