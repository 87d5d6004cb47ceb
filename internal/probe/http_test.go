package probe

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/dnsscience/dnsscience/internal/certtest"
	"github.com/dnsscience/dnsscience/internal/netpolicy"
)

// echoHandler answers /health with JSON, /echo with the request described,
// /fail with 503, /redirect with a redirect to /health.
func echoHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/health", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"status":"ok"}`)
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s host=%s x=%s body=%s", r.Method, r.Host, r.Header.Get("X-Test"), body)
	})
	mux.HandleFunc("/fail", func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "backend down", http.StatusServiceUnavailable)
	})
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/health", http.StatusFound)
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, strings.Repeat("x", 100000))
	})
	return mux
}

func httpServer(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(echoHandler())
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestHTTPGet(t *testing.T) {
	base := httpServer(t)
	r, err := HTTP(ctx(t), HTTPRequest{URL: base + "/health"})
	mustOK(t, r, err)
	h := r.HTTP
	if h.Status != 200 || h.Body != `{"status":"ok"}` || h.BodySize != 15 || h.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("got %+v", h)
	}
	if r.Timings.Connect <= 0 || r.Timings.FirstByte <= 0 || r.Timings.Total < r.Timings.FirstByte {
		t.Fatalf("got timings %+v", r.Timings)
	}
	if r.Address != strings.TrimPrefix(base, "http://") {
		t.Fatalf("got address %s, want %s", r.Address, base)
	}
}

func TestHTTPMethodHeadersBodyHost(t *testing.T) {
	base := httpServer(t)
	r, err := HTTP(ctx(t), HTTPRequest{
		URL: base + "/echo", Method: "POST", Header: http.Header{"X-Test": {"yes"}},
		Body: []byte("payload"), Host: "api.example.test",
	})
	mustOK(t, r, err)
	if want := "POST host=api.example.test x=yes body=payload"; r.HTTP.Body != want {
		t.Fatalf("got %q, want %q", r.HTTP.Body, want)
	}
}

func TestHTTPStatus(t *testing.T) {
	base := httpServer(t)
	r, err := HTTP(ctx(t), HTTPRequest{URL: base + "/fail"})
	mustOK(t, r, err) // like curl without -f: any status is an answer
	if r.HTTP.Status != 503 {
		t.Fatalf("got %d, want 503", r.HTTP.Status)
	}
	r, err = HTTP(ctx(t), HTTPRequest{URL: base + "/fail", FailOnError: true})
	mustFail(t, r, err, PhaseHTTP)
	if !strings.Contains(r.Error, "503") || r.HTTP.Status != 503 {
		t.Fatalf("got %q, want 503 named", r.Error)
	}
	r, err = HTTP(ctx(t), HTTPRequest{URL: base + "/health", ExpectStatus: []int{204}})
	mustFail(t, r, err, PhaseHTTP)
	if r.Error != "status 200, want 204" {
		t.Fatalf("got %q", r.Error)
	}
}

func TestHTTPRedirects(t *testing.T) {
	base := httpServer(t)
	r, err := HTTP(ctx(t), HTTPRequest{URL: base + "/redirect"})
	mustOK(t, r, err)
	if r.HTTP.Status != 302 || r.HTTP.Header.Get("Location") != "/health" {
		t.Fatalf("got %d %v, want the 302 itself", r.HTTP.Status, r.HTTP.Header)
	}
	r, err = HTTP(ctx(t), HTTPRequest{URL: base + "/redirect", FollowRedirects: true})
	mustOK(t, r, err)
	if r.HTTP.Status != 200 || len(r.HTTP.Redirects) != 1 || r.HTTP.FinalURL != base+"/health" {
		t.Fatalf("got %d redirects %v final %s", r.HTTP.Status, r.HTTP.Redirects, r.HTTP.FinalURL)
	}
}

func TestHTTPBodyLimit(t *testing.T) {
	base := httpServer(t)
	r, err := HTTP(ctx(t), HTTPRequest{URL: base + "/big", BodyLimit: 10})
	mustOK(t, r, err)
	if r.HTTP.BodySize != 100000 || len(r.HTTP.Body) != 10 || !r.HTTP.BodyTruncated {
		t.Fatalf("got size %d kept %d truncated %v", r.HTTP.BodySize, len(r.HTTP.Body), r.HTTP.BodyTruncated)
	}
}

func TestHTTPSConnectToWithHost(t *testing.T) {
	root := certtest.NewCA(t, "Test Root")
	addr := tlsServer(t, root.Leaf(t, host), echoHandler())
	_, port, _ := net.SplitHostPort(addr)
	// Pinned to the load balancer's address, asking for the name: like
	// curl --resolve plus -H Host.
	r, err := HTTP(ctx(t), HTTPRequest{URL: "https://" + host + ":" + port + "/echo", Options: Options{ConnectTo: "127.0.0.1"}, RootCAs: root.Pool})
	mustOK(t, r, err)
	if !strings.Contains(r.HTTP.Body, "host="+host) || r.HTTP.TLSVersion != "TLS 1.3" || r.HTTP.ALPN != "h2" || r.Timings.TLS <= 0 {
		t.Fatalf("got body %q tls %q alpn %q timings %+v", r.HTTP.Body, r.HTTP.TLSVersion, r.HTTP.ALPN, r.Timings)
	}
	// URL to the address, Host header for the name: SNI follows the Host.
	r, err = HTTP(ctx(t), HTTPRequest{URL: "https://" + addr + "/echo", Host: host, RootCAs: root.Pool})
	mustOK(t, r, err)
	// Without the Host, the certificate does not cover the address.
	r, err = HTTP(ctx(t), HTTPRequest{URL: "https://" + addr + "/echo", RootCAs: root.Pool})
	mustFail(t, r, err, PhaseTLS)
	r, err = HTTP(ctx(t), HTTPRequest{URL: "https://" + addr + "/echo", Insecure: true})
	mustOK(t, r, err)
}

func TestHTTPFailures(t *testing.T) {
	r, err := HTTP(ctx(t), HTTPRequest{URL: "http://" + closedPort(t) + "/"})
	mustFail(t, r, err, PhaseConnect)
	base := httpServer(t)
	r, err = HTTP(ctx(t), HTTPRequest{URL: base + "/health", Options: Options{Dialer: netpolicy.Default().Dialer()}})
	mustFail(t, r, err, PhasePolicy)
	if !errors.Is(r.Err, netpolicy.ErrDenied) {
		t.Fatalf("got %v, want ErrDenied", r.Err)
	}
	for _, u := range []string{"", "ftp://x/", "http://", "not a url"} {
		if _, err := HTTP(ctx(t), HTTPRequest{URL: u}); !errors.Is(err, ErrBadRequest) {
			t.Errorf("%q: got %v, want ErrBadRequest", u, err)
		}
	}
}
