package server

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dnsscience/dnsscience/internal/ratelimit"
	"github.com/dnsscience/dnsscience/internal/store"
)

// hangingServer accepts TCP connections on loopback and never answers:
// an HTTP probe to it runs until its timeout.
func hangingServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { close(done); ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { <-done; c.Close() }()
		}
	}()
	return ln.Addr().String()
}

// do sends a request with the given headers and returns the answer and body.
func (ts *testServer) do(t *testing.T, method, path, body string, h http.Header) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func jsonFrom(ip, token string) http.Header {
	h := http.Header{"Content-Type": {"application/json"}, "X-Forwarded-For": {ip}}
	if token != "" {
		h.Set(clientTokenHeader, token)
	}
	return h
}

func token(c byte) string { return strings.Repeat(string(c), 40) }

// TestFloodingClientDoesNotDelayAnothersDNS is issue 12's case 3: one
// client's slow HTTP probes (to a server that never answers) fill its own
// queue (then 429 with Retry-After) and its share of the workers; another
// client's DNS query is answered within a second.
func TestFloodingClientDoesNotDelayAnothersDNS(t *testing.T) {
	t.Parallel()
	slow := hangingServer(t)
	ts := startServer(t, Config{Workers: 4, ClientQueue: 8, TrustedProxies: []netip.Prefix{mustPrefix("127.0.0.1/32")}})
	flood := jsonFrom("198.51.100.1", token('a'))
	refused := false
	for i := range 9 {
		resp, body := ts.do(t, "POST", "/api/v1/measurements", `{"type":"http","target":"http://`+slow+`/","options":{"timeout":"20s"}}`, flood)
		if resp.StatusCode == 429 {
			refused = resp.Header.Get("Retry-After") != "" && i == 8
			break
		}
		if resp.StatusCode != 202 {
			t.Fatalf("flood %d: %d %s", i+1, resp.StatusCode, body)
		}
	}
	if !refused {
		t.Error("the 9th measurement of a client with 8 pending was not refused with 429 and Retry-After")
	}
	start := time.Now()
	var m store.Measurement
	resp, body := ts.do(t, "POST", "/api/v1/measurements", `{"type":"dns","target":"www.example.test"}`, jsonFrom("198.51.100.2", token('b')))
	if resp.StatusCode != 202 || json.Unmarshal(body, &m) != nil {
		t.Fatalf("other client's DNS query: %d %s", resp.StatusCode, body)
	}
	got := ts.wait(t, m.ID)
	if took := time.Since(start); got.Status != "finished" || took > time.Second {
		t.Errorf("other client's DNS query: %s after %s, want finished within 1 s", got.Status, took)
	}
}

// TestSlowBodyIsCutOffAndOthersServed is issue 12's case 2: a client that
// sends its body a byte at a time is cut off at the read timeout, a client
// over its connection cap is refused, and another client is served.
func TestSlowBodyIsCutOffAndOthersServed(t *testing.T) {
	t.Parallel()
	ts := startServer(t, Config{Timeouts: Timeouts{Read: 500 * time.Millisecond}, MaxConnsPerClient: 3})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := ts.srv.HTTPServer(nil)
	go func() { _ = hs.Serve(ts.srv.Listener(ln)) }()
	t.Cleanup(func() { hs.Close() })
	addr := ln.Addr().String()

	slow, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	fmt.Fprintf(slow, "POST /api/v1/measurements HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
	start := time.Now()
	_ = slow.SetReadDeadline(time.Now().Add(10 * time.Second))
	go func() { // one more byte now and then, as slowloris does
		for range 20 {
			if _, err := slow.Write([]byte(" ")); err != nil {
				return
			}
			time.Sleep(200 * time.Millisecond)
		}
	}()
	_, _ = io.Copy(io.Discard, slow) // returns when the server closes
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("the slow body was read for %s, want it cut off at the 500 ms read timeout", took)
	}

	// Three connections from 127.0.0.1 are its cap: a fourth is closed.
	for range 3 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	over, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer over.Close()
	fmt.Fprintf(over, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
	_ = over.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, _ := over.Read(make([]byte, 1)); n != 0 {
		t.Error("a fourth connection of one client was served, want it closed")
	}
	// Another client (127.0.0.2) is served.
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}
	other, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	fmt.Fprintf(other, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(other), nil)
	if err != nil || resp.StatusCode != 200 {
		t.Errorf("another client: %v %v, want 200", resp, err)
	}
}

// TestAnonymousClientsSeeOnlyTheirOwn is issue 12's case 4: an anonymous
// client lists only its own measurements; another, with the id, sees the
// measurement without its submitter; credentials in headers and URLs are
// redacted in what is stored and shown.
func TestAnonymousClientsSeeOnlyTheirOwn(t *testing.T) {
	t.Parallel()
	web := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "session", Value: "s3cr3t-session"})
		_, _ = io.WriteString(w, "ok")
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = web.Serve(ln) }()
	defer web.Close()
	ts := startServer(t, Config{})

	// Alice has no token yet: the server gives her one.
	resp, body := ts.do(t, "POST", "/api/v1/measurements", `{"type":"http","target":"http://alice:pa55word@`+ln.Addr().String()+`/",`+
		`"options":{"headers":{"Authorization":"Bearer sk-alice-secret","Accept":"text/plain"}}}`, http.Header{"Content-Type": {"application/json"}})
	alice := resp.Header.Get(clientTokenHeader)
	var m store.Measurement
	if resp.StatusCode != 202 || json.Unmarshal(body, &m) != nil || !goodToken.MatchString(alice) || !strings.Contains(resp.Header.Get("Set-Cookie"), clientCookie+"="+alice) {
		t.Fatalf("POST: %d token %q cookie %q %s", resp.StatusCode, alice, resp.Header.Get("Set-Cookie"), body)
	}
	ts.wait(t, m.ID)
	list := func(h http.Header) []store.Measurement {
		var out struct{ Measurements []store.Measurement }
		resp, body := ts.do(t, "GET", "/api/v1/measurements", "", h)
		if resp.StatusCode != 200 || json.Unmarshal(body, &out) != nil {
			t.Fatalf("list: %d %s", resp.StatusCode, body)
		}
		return out.Measurements
	}
	if got := list(http.Header{clientTokenHeader: {alice}}); len(got) != 1 || got[0].ID != m.ID || got[0].ClientID == "" {
		t.Errorf("Alice's list: %+v, want her measurement with its client_id", got)
	}
	if got := list(http.Header{"Cookie": {clientCookie + "=" + alice}}); len(got) != 1 {
		t.Errorf("Alice's list by cookie: %d, want 1", len(got))
	}
	for name, h := range map[string]http.Header{"Bob": {clientTokenHeader: {token('b')}}, "no token": {}} {
		if got := list(h); len(got) != 0 {
			t.Errorf("%s's list: %+v, want none of Alice's", name, got)
		}
	}
	// Bob has the permalink: the measurement, without who sent it.
	resp, body = ts.do(t, "GET", "/api/v1/measurements/"+m.ID, "", http.Header{clientTokenHeader: {token('b')}})
	if resp.StatusCode != 200 || strings.Contains(string(body), "client_id") || strings.Contains(string(body), "127.0.0.1\"") {
		t.Errorf("Bob's GET: %d %s, want it without client_id", resp.StatusCode, body)
	}
	stored, err := ts.srv.store.GetMeasurement(context.Background(), m.ID)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(stored)
	for _, secret := range []string{"sk-alice-secret", "pa55word", "s3cr3t-session"} {
		if strings.Contains(string(raw)+string(body), secret) {
			t.Errorf("%q is stored or shown: %s", secret, raw)
		}
	}
	if !strings.Contains(string(raw), "[redacted]") || stored.Status != "finished" {
		t.Errorf("stored %s: %s, want finished with [redacted] credentials", stored.Status, raw)
	}
}

// TestListMemoryIsBounded is issue 12's case 1: whatever the stored sizes,
// a page is at most 100 measurements and a large result is left out of it
// (whole on the measurement's own route).
func TestListMemoryIsBounded(t *testing.T) {
	t.Parallel()
	ts := startServer(t, Config{})
	owner := tokenOwner(ts.token)
	big := json.RawMessage(`{"body":"` + strings.Repeat("x", 70<<10) + `"}`)
	ctx := context.Background()
	var first string
	for i := range 120 {
		m := &store.Measurement{Type: "http", Target: "https://example.test/", Status: "finished", Result: big, ClientID: owner,
			CreatedAt: time.Now().Add(time.Duration(i) * time.Millisecond)}
		if err := ts.srv.store.CreateMeasurement(ctx, m); err != nil {
			t.Fatal(err)
		}
		first = m.ID
	}
	if resp := ts.get(t, "/api/v1/measurements?limit=1000", nil); resp.StatusCode != 400 {
		t.Errorf("limit=1000: %d, want 400", resp.StatusCode)
	}
	req, _ := http.NewRequest("GET", ts.URL+"/api/v1/measurements?limit=100", nil)
	req.Header.Set(clientTokenHeader, ts.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var page struct {
		Measurements []store.Measurement
		NextBefore   string `json:"next_before"`
	}
	if err := json.Unmarshal(body, &page); err != nil || len(page.Measurements) != 100 || page.NextBefore == "" {
		t.Fatalf("page: %v %d measurements next %q", err, len(page.Measurements), page.NextBefore)
	}
	if len(body) > 128<<10 {
		t.Errorf("a page of 100 is %d KiB (7 MiB stored), want under 128 KiB", len(body)>>10)
	}
	for _, m := range page.Measurements {
		if !m.ResultTruncated || m.Result != nil {
			t.Fatalf("%s in the list: truncated=%v with %d bytes, want the result left out", m.ID, m.ResultTruncated, len(m.Result))
		}
	}
	var whole store.Measurement
	if ts.get(t, "/api/v1/measurements/"+first, &whole); len(whole.Result) != len(big) {
		t.Errorf("own route: %d bytes of result, want %d", len(whole.Result), len(big))
	}
}

// TestShutdownStreamsTheFinalState is issue 12's case 5 (SIGTERM): a live
// stream of a running probe ends with the stored failure "interrupted".
func TestShutdownStreamsTheFinalState(t *testing.T) {
	t.Parallel()
	slow := hangingServer(t)
	ts := startServer(t, Config{})
	var m store.Measurement
	if resp := ts.post(t, `{"type":"http","target":"http://`+slow+`/","options":{"timeout":"20s"}}`, nil, &m); resp.StatusCode != 202 {
		t.Fatalf("POST: %d", resp.StatusCode)
	}
	req, _ := http.NewRequest("GET", ts.URL+"/api/v1/measurements/"+m.ID+"/stream", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	var events []string
	shut := false
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "event: ") {
			events = append(events, strings.TrimPrefix(line, "event: "))
		}
		if strings.HasPrefix(line, "data: ") && strings.Contains(line, `"running"`) && !shut {
			shut = true
			go func() { _ = ts.srv.Shutdown(context.Background()) }()
		}
		if strings.HasPrefix(line, "data: ") && len(events) > 0 && events[len(events)-1] == "result" {
			var got store.Measurement
			if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &got); err != nil {
				t.Fatal(err)
			}
			stored, err := ts.srv.store.GetMeasurement(context.Background(), m.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != "failed" || !strings.HasPrefix(got.Error, "interrupted") || stored.Status != got.Status || stored.Error != got.Error {
				t.Errorf("last event %s %q, stored %s %q: want the stored interrupted failure", got.Status, got.Error, stored.Status, stored.Error)
			}
			return
		}
	}
	t.Fatalf("the stream ended without a result: events %v", events)
}

// TestDeletedSQLiteFileIs503 is issue 12's case 6: once the database file
// is deleted, measurements are refused with 503 (nothing acknowledged that
// is not stored), /ready is 503, and no empty file is created.
func TestDeletedSQLiteFileIs503(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	st, err := store.Open(context.Background(), store.SQLiteURL(dir))
	if err != nil {
		t.Fatal(err)
	}
	ts := startServer(t, Config{Store: st})
	path := filepath.Join(dir, store.DefaultFileName)
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("database file: %v %v, want mode 0600", fi.Mode(), err)
	}
	body := `{"type":"dns","target":"www.example.test"}`
	var m store.Measurement
	if resp := ts.post(t, body, nil, &m); resp.StatusCode != 202 {
		t.Fatalf("before deletion: %d", resp.StatusCode)
	}
	// (One still running would retry its final write until the file is
	// back, and hold the server's shutdown as long.)
	ts.wait(t, m.ID)
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(path + suffix)
	}
	for i := range 3 {
		var p Problem
		if resp := ts.post(t, body, nil, &p); resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
			t.Errorf("POST %d after deletion: %d %+v, want 503 with Retry-After", i+1, resp.StatusCode, p)
		}
	}
	if resp := ts.get(t, "/ready", nil); resp.StatusCode != 503 {
		t.Errorf("/ready after deletion: %d, want 503", resp.StatusCode)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("the database file is back after deletion (%v): an empty one was created", err)
	}
}

// TestNULTargetsAreRefused is issue 12's case 8 at the API: 400, not a
// stored row (the store refuses NUL on both dialects too: store tests).
func TestNULTargetsAreRefused(t *testing.T) {
	t.Parallel()
	ts := startServer(t, Config{})
	for _, body := range []string{`{"type":"dns","target":"a\u0000.example.test"}`, `{"type":"geo","target":"192.0.2.1\u0000"}`} {
		var p Problem
		if resp := ts.post(t, body, nil, &p); resp.StatusCode != 400 || len(p.Errors) != 1 || p.Errors[0].Field != "target" {
			t.Errorf("POST %s: %d %+v, want 400 on target", body, resp.StatusCode, p)
		}
	}
}

// TestIPv6SlashSixtyFourSharesOneQuota is issue 12's case 9: addresses of
// one /64 share a client's quota; another /64 has its own.
func TestIPv6SlashSixtyFourSharesOneQuota(t *testing.T) {
	t.Parallel()
	ts := startServer(t, Config{RateLimits: []ratelimit.Policy{{Name: "dns", Limit: 2, Window: time.Minute}},
		TrustedProxies: []netip.Prefix{mustPrefix("127.0.0.1/32")}})
	get := func(ip string) int {
		resp, _ := ts.do(t, "GET", "/api/v1/dns/www.example.test/A", "", http.Header{"X-Forwarded-For": {ip}})
		return resp.StatusCode
	}
	for i, c := range []struct {
		ip   string
		want int
	}{{"2001:db8:1:2::1", 200}, {"2001:db8:1:2::ffff", 200}, {"2001:db8:1:2:aaaa:bbbb:cccc:dddd", 429}, {"2001:db8:1:3::1", 200}} {
		if got := get(c.ip); got != c.want {
			t.Errorf("request %d from %s: %d, want %d", i+1, c.ip, got, c.want)
		}
	}
}

// TestStrictRequests: bodies are strict JSON of the exact type, wrong
// methods are 405 with Allow, and Authorization is checked.
func TestStrictRequests(t *testing.T) {
	t.Parallel()
	ts := startServer(t, Config{})
	js := http.Header{"Content-Type": {"application/json"}}
	for _, c := range []struct {
		body  string
		h     http.Header
		want  int
		field string
	}{
		{`{"type":"dns","target":"www.example.test"} {}`, js, 400, ""},
		{`{"type":"dns","target":"www.example.test","type":"geo"}`, js, 400, "type"},
		{`{"Type":"dns","target":"www.example.test"}`, js, 400, "Type"},
		{`{"type":"dns","target":"www.example.test","options":{"type":"A","type":"MX"}}`, js, 400, "options.type"},
		{`{"type":"dns","target":"www.example.test"}`, http.Header{"Content-Type": {"application/jsonfoo"}}, 415, ""},
		{`{"type":"dns","target":"www.example.test"}`, http.Header{}, 415, ""},
		{`{"type":"dns","target":"www.example.test"}`, http.Header{"Content-Type": {"application/json; charset=utf-8"}}, 202, ""},
		{`{"type":"dns","target":"www.example.test"}`, http.Header{"Content-Type": {"application/json"}, "Authorization": {"bearer nope"}}, 401, ""},
		{`{"type":"dns","target":"www.example.test"}`, http.Header{"Content-Type": {"application/json"}, "Authorization": {"Basic dXNlcjpwdw=="}}, 401, ""},
	} {
		var p Problem
		resp, body := ts.do(t, "POST", "/api/v1/measurements", c.body, c.h)
		_ = json.Unmarshal(body, &p)
		if resp.StatusCode != c.want || (c.field != "" && (len(p.Errors) != 1 || p.Errors[0].Field != c.field)) {
			t.Errorf("POST %s (%v): %d %s, want %d on %q", c.body, c.h, resp.StatusCode, body, c.want, c.field)
		}
	}
	// A key in a lower-case scheme is a key (and an unknown one is refused).
	key, _, err := ts.srv.store.CreateAPIKey(context.Background(), "lower", false)
	if err != nil {
		t.Fatal(err)
	}
	if resp, body := ts.do(t, "GET", "/api/v1/dns/www.example.test/A", "", http.Header{"Authorization": {"bearer " + key}}); resp.StatusCode != 200 || resp.Header.Get("X-RateLimit-Limit") != "6000" {
		t.Errorf("lower-case bearer: %d limit %s %s, want 200 with the key holder's quota", resp.StatusCode, resp.Header.Get("X-RateLimit-Limit"), body)
	}
	for _, c := range []struct{ method, path, allow string }{
		{"POST", "/health", "GET, HEAD"},
		{"DELETE", "/api/v1/measurements", "GET, HEAD, POST"},
		{"PUT", "/api/v1/measurements/x", "GET, HEAD"},
	} {
		resp, body := ts.do(t, c.method, c.path, "", nil)
		if resp.StatusCode != 405 || resp.Header.Get("Allow") != c.allow {
			t.Errorf("%s %s: %d Allow %q %s, want 405 Allow %q", c.method, c.path, resp.StatusCode, resp.Header.Get("Allow"), body, c.allow)
		}
	}
}
