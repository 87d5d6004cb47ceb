package cli

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/dnsscience/dnsscience/internal/certtest"
)

// run runs the CLI with args and returns the exit status, stdout and stderr.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	code := Run(ctx, append([]string{"dnsscience"}, args...), strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

func wantExit(t *testing.T, got, want int, out, errOut string) {
	t.Helper()
	if got != want {
		t.Fatalf("got exit %d, want %d\nstdout:\n%s\nstderr:\n%s", got, want, out, errOut)
	}
}

// testSite is a loopback HTTPS server for api.example.test with /health,
// /fail (503), /ws (echo) and /ws-crash (closes 1011).
type testSite struct {
	addr, port string
	caFile     string
}

func startSite(t *testing.T, cert func(*certtest.CA) tls.Certificate) *testSite {
	t.Helper()
	ca := certtest.NewCA(t, "CLI Test Root")
	mux := http.NewServeMux()
	mux.HandleFunc("/health", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"status":"ok","version":"1.2.3"}`)
	})
	mux.HandleFunc("/fail", func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "down", http.StatusServiceUnavailable)
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
		_ = c.Close(websocket.StatusNormalClosure, "")
	})
	mux.HandleFunc("/ws-crash", func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		_ = c.Close(websocket.StatusInternalError, "backend unavailable")
	})
	srv := httptest.NewUnstartedServer(mux)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert(ca)}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	addr := srv.Listener.Addr().String()
	_, port, _ := net.SplitHostPort(addr)
	return &testSite{addr: addr, port: port, caFile: ca.WriteCAFile(t)}
}

func goodCert(t *testing.T) func(*certtest.CA) tls.Certificate {
	return func(ca *certtest.CA) tls.Certificate { return ca.Leaf(t, "api.example.test") }
}

func TestTCPCommand(t *testing.T) {
	s := startSite(t, goodCert(t))
	code, out, errOut := run(t, "tcp", s.addr)
	wantExit(t, code, 0, out, errOut)
	if !strings.HasPrefix(out, "OK TCP "+s.addr+" via "+s.addr) || !strings.Contains(out, "connect ") {
		t.Fatalf("got %q", out)
	}
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := l.Addr().String()
	l.Close()
	code, out, errOut = run(t, "tcp", closed)
	wantExit(t, code, 1, out, errOut)
	if !strings.Contains(out, "FAIL TCP") || !strings.Contains(out, "failed at connect") {
		t.Fatalf("got %q", out)
	}
	code, out, errOut = run(t, "tcp", "no-port")
	wantExit(t, code, 2, out, errOut)
	if !strings.Contains(errOut, `bad target "no-port": want host:port`) {
		t.Fatalf("got %q", errOut)
	}
}

func TestCertCommand(t *testing.T) {
	s := startSite(t, goodCert(t))
	code, out, errOut := run(t, "cert", "api.example.test:"+s.port, "--connect-to", "127.0.0.1", "--ca", s.caFile)
	wantExit(t, code, 0, out, errOut)
	for _, want := range []string{"OK TLS api.example.test:", "trusted: yes", "hostname api.example.test: covered", "chain as served:", "sha256", "verified chain earliest expiry"} {
		if !strings.Contains(out, want) {
			t.Fatalf("missing %q in\n%s", want, out)
		}
	}
	// Without the CA the chain is not trusted; the finding names it.
	code, out, errOut = run(t, "cert", s.addr, "--sni", "api.example.test", "--json")
	wantExit(t, code, 1, out, errOut)
	var r struct {
		OK  bool `json:"ok"`
		TLS struct {
			Findings []struct{ Name string } `json:"findings"`
		} `json:"tls"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("bad JSON %v:\n%s", err, out)
	}
	if r.OK || len(r.TLS.Findings) != 1 || r.TLS.Findings[0].Name != "unknown_authority" {
		t.Fatalf("got %+v", r)
	}
	code, out, errOut = run(t, "cert", s.addr, "--sni", "api-staging.example.test", "--ca", s.caFile)
	wantExit(t, code, 1, out, errOut)
	if !strings.Contains(out, "hostname_mismatch: certificate for api.example.test does not cover api-staging.example.test") {
		t.Fatalf("got\n%s", out)
	}
	code, _, errOut = run(t, "cert", s.addr, "--ca", "/nonexistent.pem")
	wantExit(t, code, 2, "", errOut)
}

func TestCertCommandExpiresSoon(t *testing.T) {
	s := startSite(t, func(ca *certtest.CA) tls.Certificate {
		return ca.LeafValid(t, time.Now().Add(-time.Hour), time.Now().Add(10*24*time.Hour), "api.example.test")
	})
	args := []string{"cert", s.addr, "--sni", "api.example.test", "--ca", s.caFile}
	code, out, errOut := run(t, args...)
	wantExit(t, code, 1, out, errOut)
	if !strings.Contains(out, "expires_soon: leaf certificate expires in 9 days (within 14 days)") {
		t.Fatalf("got\n%s", out)
	}
	code, out, errOut = run(t, append(args, "--warn-days", "5")...)
	wantExit(t, code, 0, out, errOut)
}

func TestHTTPCommand(t *testing.T) {
	s := startSite(t, goodCert(t))
	url := "https://api.example.test:" + s.port
	code, out, errOut := run(t, "http", url+"/health", "--connect-to", "127.0.0.1", "--ca", s.caFile, "-i", "--body")
	wantExit(t, code, 0, out, errOut)
	for _, want := range []string{"OK HTTP " + url + "/health via " + s.addr, "200 OK, 33 bytes", "Content-Type: application/json", `{"status":"ok"`, "tls "} {
		if !strings.Contains(out, want) {
			t.Fatalf("missing %q in\n%s", want, out)
		}
	}
	code, out, errOut = run(t, "http", "https://"+s.addr+"/fail", "--host", "api.example.test", "--ca", s.caFile)
	wantExit(t, code, 0, out, errOut)
	code, out, errOut = run(t, "http", "https://"+s.addr+"/fail", "-k", "--fail")
	wantExit(t, code, 1, out, errOut)
	if !strings.Contains(out, "failed at http: status 503") {
		t.Fatalf("got\n%s", out)
	}
	code, out, errOut = run(t, "http", "https://"+s.addr+"/health", "-k", "--expect-status", "204", "--json")
	wantExit(t, code, 1, out, errOut)
	var r struct {
		Phase string `json:"failed_phase"`
		HTTP  struct {
			Status int `json:"status"`
		} `json:"http"`
		Timings map[string]float64 `json:"timings"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if r.Phase != "http" || r.HTTP.Status != 200 || r.Timings["total_ms"] <= 0 {
		t.Fatalf("got %+v", r)
	}
	code, _, errOut = run(t, "http", "ftp://x/")
	wantExit(t, code, 2, "", errOut)
	code, _, errOut = run(t, "http", url, "-H", "no-colon")
	wantExit(t, code, 2, "", errOut)
}

func TestWSCommand(t *testing.T) {
	s := startSite(t, goodCert(t))
	url := "wss://api.example.test:" + s.port
	code, out, errOut := run(t, "ws", url+"/ws", "--connect-to", "127.0.0.1", "--ca", s.caFile, "--send", "hello", "--expect", "echo: hello")
	wantExit(t, code, 0, out, errOut)
	if !strings.Contains(out, "upgrade: HTTP 101") || !strings.Contains(out, `received: "echo: hello"`) {
		t.Fatalf("got\n%s", out)
	}
	code, out, errOut = run(t, "ws", url+"/ws-crash", "--connect-to", "127.0.0.1", "--ca", s.caFile, "--linger", "5s")
	wantExit(t, code, 1, out, errOut)
	if !strings.Contains(out, `failed at message: server closed the connection with 1011 (InternalError) "backend unavailable" `) ||
		!strings.Contains(out, `after the upgrade: 1011 "backend unavailable"`) {
		t.Fatalf("got\n%s", out)
	}
	code, out, errOut = run(t, "ws", url+"/health", "--connect-to", "127.0.0.1", "--ca", s.caFile)
	wantExit(t, code, 1, out, errOut)
	if !strings.Contains(out, "failed at upgrade") {
		t.Fatalf("got\n%s", out)
	}
}
