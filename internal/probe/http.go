package probe

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// DefaultBodyLimit is how much of a response body is kept when
// HTTPRequest.BodyLimit is zero.
const DefaultBodyLimit = 64 << 10

// maxBodyRead bounds how much of a body is read (and counted) at all.
const maxBodyRead = 16 << 20

// HTTPRequest asks for one HTTP request (and its redirects when followed).
type HTTPRequest struct {
	// URL is http:// or https://.
	URL string
	Options
	// Method defaults to GET.
	Method string
	// Header is sent as is.
	Header http.Header
	// Body is sent when non-empty.
	Body []byte
	// Host overrides the Host header and, over https, the SNI and the name
	// the certificate must cover.
	Host string
	// FollowRedirects follows up to MaxRedirects (0 means 10) redirects;
	// false reports the first response as it is.
	FollowRedirects bool
	MaxRedirects    int
	// RootCAs verifies the server; nil means the system roots.
	RootCAs *x509.CertPool
	// Insecure skips certificate verification.
	Insecure bool
	// BodyLimit bounds the body kept in HTTPInfo.Body; 0 means
	// DefaultBodyLimit. The size is counted up to 16 MiB regardless.
	BodyLimit int
	// ExpectStatus lists acceptable statuses; empty accepts any status
	// unless FailOnError is set.
	ExpectStatus []int
	// FailOnError fails on a status of 400 or more (curl --fail).
	FailOnError bool
}

// HTTPInfo is what an HTTP probe saw.
type HTTPInfo struct {
	Method        string      `json:"method"`
	Status        int         `json:"status,omitempty"`
	StatusText    string      `json:"status_text,omitempty"`
	Proto         string      `json:"proto,omitempty"`
	Header        http.Header `json:"headers,omitempty"`
	BodySize      int64       `json:"body_size"`
	Body          string      `json:"body,omitempty"`
	BodyTruncated bool        `json:"body_truncated,omitempty"`
	Redirects     []string    `json:"redirects,omitempty"` // the URLs redirected to, in order
	FinalURL      string      `json:"final_url,omitempty"`
	TLSVersion    string      `json:"tls_version,omitempty"`
	TLSCipher     string      `json:"tls_cipher,omitempty"`
	ALPN          string      `json:"alpn,omitempty"`
	CertExpiry    time.Time   `json:"cert_expiry,omitzero"`
}

// HTTP sends the request and reports the response.
func HTTP(ctx context.Context, req HTTPRequest) (*Result, error) {
	u, hreq, err := buildHTTPRequest(req)
	if err != nil {
		return nil, err
	}
	res := &Result{limit: req.timeout(), Kind: KindHTTP, Target: req.URL, Start: time.Now(), HTTP: &HTTPInfo{Method: hreq.Method}}
	ctx, cancel := context.WithTimeout(ctx, req.timeout())
	defer cancel()
	tr := &tracer{}
	trace := tr.trace()
	trace.GotConn = func(info httptrace.GotConnInfo) { res.Address = info.Conn.RemoteAddr().String() }
	trace.GotFirstResponseByte = func() {
		tr.mu.Lock()
		tr.t.FirstByte = time.Since(res.Start)
		tr.mu.Unlock()
	}
	hreq = hreq.WithContext(httptrace.WithClientTrace(ctx, trace))
	client := httpClient(req, u, true)
	defer client.CloseIdleConnections()
	defer tr.finish(res)
	client.CheckRedirect = func(r *http.Request, via []*http.Request) error {
		if !req.FollowRedirects {
			return http.ErrUseLastResponse
		}
		if len(via) > maxRedirects(req.MaxRedirects) {
			return fmt.Errorf("stopped after %d redirects", len(via)-1)
		}
		res.HTTP.Redirects = append(res.HTTP.Redirects, r.URL.String())
		return nil
	}
	resp, err := client.Do(hreq)
	if err != nil {
		res.fail(httpPhase(err, tr, u.Scheme == "https"), fmt.Errorf("%s %s: %w", hreq.Method, req.URL, unwrapURL(err)))
		return res, nil
	}
	defer resp.Body.Close()
	readResponse(res.HTTP, resp, req.BodyLimit)
	res.OK = true
	if err := checkStatus(req, resp.StatusCode); err != nil {
		res.fail(PhaseHTTP, err)
	}
	return res, nil
}

func buildHTTPRequest(req HTTPRequest) (*url.URL, *http.Request, error) {
	u, err := url.Parse(req.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, nil, fmt.Errorf("%w: %q is not an http:// or https:// URL", ErrBadRequest, req.URL)
	}
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	var body io.Reader
	if len(req.Body) > 0 {
		body = bytes.NewReader(req.Body)
	}
	hreq, err := http.NewRequest(method, u.String(), body)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrBadRequest, err)
	}
	for k, vs := range req.Header {
		for _, v := range vs {
			hreq.Header.Add(k, v)
		}
	}
	if h := hreq.Header.Get("Host"); h != "" && req.Host == "" {
		req.Host = h
	}
	hreq.Header.Del("Host")
	if req.Host != "" {
		hreq.Host = req.Host
	}
	return u, hreq, nil
}

// httpClient builds a one-shot client whose dialer honours ConnectTo for
// the URL's own host and port, and whose TLS uses Host as the server name.
func httpClient(req HTTPRequest, u *url.URL, h2 bool) *http.Client {
	origin := canonicalHostPort(u)
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		if addr == origin {
			addr = req.dialAddr(addr)
		}
		return req.dialer().DialContext(ctx, network, addr)
	}
	tcfg := &tls.Config{RootCAs: req.RootCAs, InsecureSkipVerify: req.Insecure} //nolint:gosec // user asked for --insecure
	if req.Host != "" {
		tcfg.ServerName = hostOnly(req.Host)
	}
	t := &http.Transport{
		Proxy:               nil,
		DialContext:         dial,
		TLSClientConfig:     tcfg,
		ForceAttemptHTTP2:   h2,
		DisableKeepAlives:   h2,
		TLSHandshakeTimeout: req.timeout(),
	}
	if !h2 { // a WebSocket upgrade needs HTTP/1.1
		t.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	}
	return &http.Client{Transport: t}
}

func canonicalHostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" || u.Scheme == "wss" {
			port = "443"
		}
	}
	return net.JoinHostPort(u.Hostname(), port)
}

func hostOnly(h string) string {
	if host, _, err := net.SplitHostPort(h); err == nil {
		return host
	}
	return strings.Trim(h, "[]")
}

func maxRedirects(n int) int {
	if n > 0 {
		return n
	}
	return 10
}

func readResponse(info *HTTPInfo, resp *http.Response, limit int) {
	if limit <= 0 {
		limit = DefaultBodyLimit
	}
	info.Status = resp.StatusCode
	info.StatusText = http.StatusText(resp.StatusCode)
	info.Proto = resp.Proto
	info.Header = resp.Header
	info.FinalURL = resp.Request.URL.String()
	if cs := resp.TLS; cs != nil {
		info.TLSVersion = tls.VersionName(cs.Version)
		info.TLSCipher = tls.CipherSuiteName(cs.CipherSuite)
		info.ALPN = cs.NegotiatedProtocol
		if len(cs.PeerCertificates) > 0 {
			info.CertExpiry = cs.PeerCertificates[0].NotAfter
		}
	}
	var kept bytes.Buffer
	buf := copyBuffers.Get().(*[]byte)
	n, _ := io.CopyBuffer(&limitedWriter{w: &kept, n: limit}, io.LimitReader(resp.Body, maxBodyRead), *buf)
	copyBuffers.Put(buf)
	info.BodySize = n
	info.Body = kept.String()
	info.BodyTruncated = n > int64(limit)
}

// copyBuffers are the buffers bodies are read through: a monitor reads
// thousands of bodies a second, and io.Copy would allocate 32 KiB for each.
var copyBuffers = sync.Pool{New: func() any { b := make([]byte, 8<<10); return &b }}

// limitedWriter keeps the first n bytes and discards (but accepts) the rest.
type limitedWriter struct {
	w io.Writer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if l.n > 0 {
		k := min(l.n, len(p))
		_, _ = l.w.Write(p[:k])
		l.n -= k
	}
	return len(p), nil
}

func checkStatus(req HTTPRequest, status int) error {
	if len(req.ExpectStatus) > 0 && !slices.Contains(req.ExpectStatus, status) {
		return fmt.Errorf("status %d, want %s", status, joinInts(req.ExpectStatus))
	}
	if req.FailOnError && status >= 400 {
		return fmt.Errorf("status %d %s", status, http.StatusText(status))
	}
	return nil
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, " or ")
}

// httpPhase classifies a client error, using how far the connection got
// when the error does not say.
func httpPhase(err error, tr *tracer, overTLS bool) Phase {
	var (
		opErr   *net.OpError
		certErr *tls.CertificateVerificationError
		recErr  tls.RecordHeaderError
		hostErr x509.HostnameError
		uaErr   x509.UnknownAuthorityError
		invErr  x509.CertificateInvalidError
	)
	switch {
	case errors.As(err, &certErr), errors.As(err, &recErr), errors.As(err, &hostErr),
		errors.As(err, &uaErr), errors.As(err, &invErr):
		return PhaseTLS
	case errors.As(err, &opErr) && opErr.Op == "dial":
		return dialPhase(err)
	}
	if strings.Contains(err.Error(), "tls:") {
		return PhaseTLS
	}
	return tr.stalledPhase(overTLS)
}

// unwrapURL drops url.Error's repetition of the method and URL.
func unwrapURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
