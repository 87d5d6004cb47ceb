package dnsq

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// ErrNoAnswer is wrapped when every try at a server timed out.
var ErrNoAnswer = errors.New("no answer")

// Client sends queries. The zero value is ready to use: 5 s per try, 3 tries
// (like dig), TCP retry when a UDP answer is truncated, system TLS roots.
type Client struct {
	// Timeout bounds each try; 0 means 5 s.
	Timeout time.Duration
	// Tries is the number of attempts over UDP before giving up; 0 means 3.
	// TCP, TLS and HTTPS queries are tried once per attempt as well.
	Tries int
	// NoTCPFallback keeps truncated UDP answers as they are (dig +ignore).
	NoTCPFallback bool
	// TLSConfig is used for DoT and DoH (RootCAs, ServerName); nil means
	// system roots and the server's host name.
	TLSConfig *tls.Config
	// HTTPClient sends DoH requests; nil means a client built from TLSConfig.
	HTTPClient *http.Client
	// DoHGet sends DoH queries with GET and a ?dns= parameter instead of POST.
	DoHGet bool
	// Dialer opens connections; nil means a net.Dialer. A policy that refuses
	// some addresses plugs in here.
	Dialer Dialer
	// Family restricts connections to IPv4 ("4") or IPv6 ("6"), as dig -4
	// and -6 do; empty allows both. Only with the default Dialer.
	Family string
	// Source is the local address to send from (dig -b); its port is used
	// when not 0. Only with the default Dialer.
	Source netip.AddrPort
	// TSIG, when set, signs every query and zone transfer with this key and
	// requires every reply to verify (RFC 8945). Not over DoH.
	TSIG *TSIGKey
}

// Dialer is the piece of net.Dialer the client uses.
type Dialer interface {
	DialContext(ctx context.Context, network, address string) (net.Conn, error)
}

// Response is one server's reply to one query.
type Response struct {
	Msg       *dns.Msg      // the reply
	Server    Server        // where it was sent
	Transport Transport     // how the answer came back (udp, or tcp after truncation)
	RTT       time.Duration // time from send to reply, for the try that answered
	When      time.Time     // when the query was sent
	SentSize  int           // query size in bytes
	RecvSize  int           // reply size in bytes
	Tries     int           // tries it took
	Truncated bool          // the UDP answer was truncated (and retried over TCP unless disabled)
	// NoEDNSRetry is set when the server answered the EDNS query with
	// FORMERR and no OPT record, and this reply is to the same query sent
	// again without EDNS (RFC 6891 §7).
	NoEDNSRetry bool
	// Remote is the address the answer came from (host:port), also for DoT
	// and DoH servers named by host name.
	Remote string
	// Query is the message sent (before any TSIG was added), for dig +qr.
	Query *dns.Msg
}

func (c *Client) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return 5 * time.Second
}

func (c *Client) tries() int {
	if c.Tries > 0 {
		return c.Tries
	}
	return 3
}

func (c *Client) dialer() Dialer {
	if c.Dialer != nil {
		return c.Dialer
	}
	if c.Family == "" && !c.Source.IsValid() {
		return &net.Dialer{}
	}
	return sourceDialer{family: c.Family, source: c.Source}
}

// sourceDialer dials from a given source address and/or one address
// family only.
type sourceDialer struct {
	family string
	source netip.AddrPort
}

func (d sourceDialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	nd := &net.Dialer{}
	if d.source.IsValid() {
		if strings.HasPrefix(network, "udp") {
			nd.LocalAddr = net.UDPAddrFromAddrPort(d.source)
		} else {
			nd.LocalAddr = net.TCPAddrFromAddrPort(d.source)
		}
	}
	return nd.DialContext(ctx, network+d.family, address)
}

// Exchange sends q to srv and returns its reply. Timeouts are retried up to
// Tries times; other errors (connection refused, TLS failures) are returned
// at once. ctx bounds the whole exchange.
func (c *Client) Exchange(ctx context.Context, srv Server, q Query) (*Response, error) {
	m, err := q.Msg(uint16(rand.Uint32()))
	if err != nil {
		return nil, err
	}
	return c.ExchangeMsg(ctx, srv, m)
}

// ExchangeMsg is Exchange for a prepared message. A server that answers an
// EDNS query with FORMERR and no OPT record does not speak EDNS: the query is
// sent again without it, and the reply says so (NoEDNSRetry).
func (c *Client) ExchangeMsg(ctx context.Context, srv Server, m *dns.Msg) (*Response, error) {
	resp, err := c.exchangeTries(ctx, srv, m)
	if err != nil || !rejectsEDNS(m, resp.Msg) {
		return resp, err
	}
	plain := m.Copy()
	plain.Extra = WithoutOPT(plain.Extra)
	resp, err = c.exchangeTries(ctx, srv, plain)
	if err != nil {
		return nil, fmt.Errorf("asking again without EDNS after FORMERR: %w", err)
	}
	resp.NoEDNSRetry = true
	return resp, nil
}

// rejectsEDNS reports a FORMERR without OPT to a query with OPT.
func rejectsEDNS(q, r *dns.Msg) bool {
	return r.Rcode == dns.RcodeFormatError && q.IsEdns0() != nil && r.IsEdns0() == nil
}

func (c *Client) exchangeTries(ctx context.Context, srv Server, m *dns.Msg) (*Response, error) {
	var lastErr error
	for try := 1; try <= c.tries(); try++ {
		resp, err := c.once(ctx, srv, m)
		if err == nil {
			resp.Tries = try
			return resp, nil
		}
		lastErr = err
		if ctx.Err() != nil {
			return nil, fmt.Errorf("querying %s: %w", srv, ctx.Err())
		}
		if !isTimeout(err) {
			return nil, fmt.Errorf("querying %s: %w", srv, err)
		}
	}
	return nil, fmt.Errorf("querying %s: %w after %d tries: %v", srv, ErrNoAnswer, c.tries(), lastErr)
}

func (c *Client) once(ctx context.Context, srv Server, m *dns.Msg) (*Response, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout())
	defer cancel()
	switch srv.Transport {
	case HTTPS:
		return c.doh(ctx, srv, m)
	case QUIC:
		return c.doq(ctx, srv, m)
	case TCP, TLS:
		return c.stream(ctx, srv, srv.Transport, m)
	default:
		resp, err := c.stream(ctx, srv, UDP, m)
		if err != nil || !resp.Msg.Truncated || c.NoTCPFallback {
			return resp, err
		}
		tcp, err := c.stream(ctx, srv, TCP, m)
		if err != nil {
			return nil, fmt.Errorf("retrying truncated answer over TCP: %w", err)
		}
		tcp.Truncated = true
		return tcp, nil
	}
}

// stream sends m over one fresh connection: UDP datagrams, TCP or TLS with a
// two-byte length prefix.
func (c *Client) stream(ctx context.Context, srv Server, t Transport, m *dns.Msg) (*Response, error) {
	co, err := c.dial(ctx, srv, t)
	if err != nil {
		return nil, err
	}
	defer co.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = co.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = co.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if m.IsEdns0() != nil {
		co.UDPSize = m.IsEdns0().UDPSize()
	} else {
		co.UDPSize = dns.MinMsgSize
	}
	wire, reqMAC, err := c.pack(m)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	if _, err := co.Write(wire); err != nil {
		return nil, fmt.Errorf("sending: %w", err)
	}
	for {
		raw, err := co.ReadMsgHeader(nil)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("reading reply: %w", err)
		}
		r := new(dns.Msg)
		if err := r.Unpack(raw); err != nil {
			if t == UDP {
				continue // garbage or a stray datagram: keep waiting
			}
			return nil, fmt.Errorf("unpacking reply: %w", err)
		}
		if r.Id != m.Id || !sameQuestion(r, m) {
			continue
		}
		if err := c.verifyReply(raw, r, reqMAC); err != nil {
			return nil, err
		}
		return &Response{
			Msg: r, Server: srv, Transport: t, RTT: time.Since(start), When: start,
			SentSize: len(wire), RecvSize: len(raw), Remote: co.RemoteAddr().String(), Query: m,
		}, nil
	}
}

// pack renders m for the wire, signed when the client has a TSIG key, and
// returns the request MAC the reply must chain on.
func (c *Client) pack(m *dns.Msg) ([]byte, string, error) {
	if c.TSIG != nil {
		return c.TSIG.sign(m.Copy())
	}
	wire, err := m.Pack()
	if err != nil {
		return nil, "", fmt.Errorf("packing query: %w", err)
	}
	return wire, "", nil
}

// verifyReply checks the TSIG of a reply (raw, as received) to a query
// signed with reqMAC, when the client signs.
func (c *Client) verifyReply(raw []byte, r *dns.Msg, reqMAC string) error {
	if c.TSIG == nil {
		return nil
	}
	_, err := c.TSIG.verify(raw, r, reqMAC, false)
	return err
}

// dial opens a connection to srv for transport t: a UDP socket, or a TCP
// connection wrapped in TLS for DoT.
func (c *Client) dial(ctx context.Context, srv Server, t Transport) (*dns.Conn, error) {
	network := "udp"
	if t != UDP {
		network = "tcp"
	}
	raw, err := c.dialer().DialContext(ctx, network, srv.Addr)
	if err != nil {
		return nil, err
	}
	if t == TLS {
		raw = tls.Client(raw, c.tlsConfig(srv))
	}
	return &dns.Conn{Conn: raw}, nil
}

func sameQuestion(r, m *dns.Msg) bool {
	if len(r.Question) == 0 { // e.g. FORMERR replies may carry no question
		return true
	}
	if len(m.Question) == 0 {
		return false
	}
	a, b := r.Question[0], m.Question[0]
	return a.Qtype == b.Qtype && a.Qclass == b.Qclass && SameName(a.Name, b.Name)
}

func (c *Client) tlsConfig(srv Server) *tls.Config {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.TLSConfig != nil {
		cfg = c.TLSConfig.Clone()
	}
	if cfg.ServerName == "" {
		cfg.ServerName = srv.TLSName
	}
	if cfg.ServerName == "" {
		cfg.ServerName, _, _ = net.SplitHostPort(srv.Addr)
	}
	return cfg
}

// httpClient builds the DoH client; the hosts of servers with Bootstrap
// addresses are reached at those addresses instead of being looked up.
func (c *Client) httpClient(servers ...Server) *http.Client {
	if c.HTTPClient != nil {
		return c.HTTPClient
	}
	boot := map[string][]string{}
	for _, s := range servers {
		if u, err := url.Parse(s.Addr); err == nil && len(s.Bootstrap) > 0 {
			boot[u.Hostname()] = s.Bootstrap
		}
	}
	return &http.Client{Transport: &http.Transport{
		DialContext:       bootstrapDial(c.dialer().DialContext, boot),
		TLSClientConfig:   c.TLSConfig,
		ForceAttemptHTTP2: true,
	}}
}

// bootstrapDial connects to a host listed in boot at its addresses, in
// order, on the port asked for, instead of looking it up; the TLS name stays
// the URL's. Other hosts are dialled as they are.
func bootstrapDial(dial func(context.Context, string, string) (net.Conn, error), boot map[string][]string) func(context.Context, string, string) (net.Conn, error) {
	return func(ctx context.Context, network, address string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(address)
		if err != nil || len(boot[host]) == 0 {
			return dial(ctx, network, address)
		}
		var errs []error
		for _, a := range boot[host] {
			conn, err := dial(ctx, network, net.JoinHostPort(a, port))
			if err == nil {
				return conn, nil
			}
			errs = append(errs, err)
		}
		return nil, errors.Join(errs...)
	}
}

// doh sends m as an RFC 8484 request (POST, or GET with ?dns=).
func (c *Client) doh(ctx context.Context, srv Server, m *dns.Msg) (*Response, error) {
	// RFC 8484 §4.1: use id 0 for cache friendliness; a TSIG signs the
	// message with that id (its original id is 0).
	q := m.Copy()
	q.Id = 0
	wire, reqMAC, err := c.pack(q)
	if err != nil {
		return nil, err
	}
	var req *http.Request
	if c.DoHGet {
		u := srv.Addr + sep(srv.Addr) + "dns=" + base64.RawURLEncoding.EncodeToString(wire)
		req, err = http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	} else {
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, srv.Addr, bytes.NewReader(wire))
		if req != nil {
			req.Header.Set("Content-Type", "application/dns-message")
		}
	}
	if err != nil {
		return nil, fmt.Errorf("building DoH request: %w", err)
	}
	req.Header.Set("Accept", "application/dns-message")
	var remote string
	req = req.WithContext(httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		GotConn: func(ci httptrace.GotConnInfo) { remote = ci.Conn.RemoteAddr().String() },
	}))
	start := time.Now()
	resp, err := c.httpClient(srv).Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 65536))
	if err != nil {
		return nil, fmt.Errorf("reading DoH reply: %w", err)
	}
	rtt := time.Since(start)
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("DoH server answered HTTP %s", resp.Status)
	}
	r := new(dns.Msg)
	if err := r.Unpack(body); err != nil {
		return nil, fmt.Errorf("unpacking DoH reply: %w", err)
	}
	if err := c.verifyReply(body, r, reqMAC); err != nil {
		return nil, err
	}
	r.Id = m.Id
	return &Response{
		Msg: r, Server: srv, Transport: HTTPS, RTT: rtt, When: start,
		SentSize: len(wire), RecvSize: len(body), Remote: remote, Query: m,
	}, nil
}

func sep(u string) string {
	if bytes.ContainsRune([]byte(u), '?') {
		return "&"
	}
	return "?"
}

func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
