package alert

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/dnsscience/dnsscience/internal/check"
	"github.com/dnsscience/dnsscience/internal/netpolicy"
)

// Sender delivers a message to one configured channel.
type Sender interface {
	Send(ctx context.Context, m *Message) error
}

// Env is what senders connect with.
type Env struct {
	// Policy decides which addresses a channel may reach, after DNS
	// resolution (a webhook URL resolving to a private or metadata address
	// is refused unless allowed); nil means netpolicy.Default().
	Policy *netpolicy.Policy
	// Timeout bounds one delivery; 0 means 10 s.
	Timeout time.Duration
	// TLS is the client TLS configuration (tests give their CA); nil means
	// the system roots.
	TLS *tls.Config
}

// MaxResponse is the most of a receiver's answer that is read.
const MaxResponse = 64 << 10

// DeliveryError is a failed delivery with what the receiver said.
type DeliveryError struct {
	Status int
	// RetryAfter is the receiver's Retry-After (429 or 503), 0 when none.
	RetryAfter time.Duration
	// Permanent: retrying the same request cannot succeed (a 4xx other
	// than 408 and 429, a bad configuration): the notification is dead.
	Permanent bool
	Err       error
}

func (e *DeliveryError) Error() string { return e.Err.Error() }
func (e *DeliveryError) Unwrap() error { return e.Err }

// channelType builds a sender of one type from a channel's options.
type channelType struct {
	// required and optional option names (template is always allowed).
	required, optional []string
	build              func(c *check.Channel, h *poster) (Sender, error)
}

// types are the channel types, one file each.
var types = map[string]channelType{
	"webhook":    webhookType,
	"slack":      slackType,
	"discord":    discordType,
	"teams":      teamsType,
	"mattermost": mattermostType,
	"googlechat": googleChatType,
	"pagerduty":  pagerDutyType,
	"opsgenie":   opsgenieType,
	"telegram":   telegramType,
	"ntfy":       ntfyType,
	"pushover":   pushoverType,
	"matrix":     matrixType,
	"email":      emailType,
}

// Types lists the channel types.
func Types() []string {
	var out []string
	for t := range types {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

// Build makes the sender of a channel, checking its type and options; the
// error names the suite's file and line.
func Build(c *check.Channel, env *Env) (Sender, error) {
	t, ok := types[c.Type]
	if !ok {
		return nil, c.Errorf("type", "unknown type %q; expected one of: %s", c.Type, strings.Join(Types(), ", "))
	}
	allowed := slices.Concat(t.required, t.optional, []string{"template"})
	for k := range c.Options {
		if !slices.Contains(allowed, k) {
			return nil, c.Errorf(k, "unknown option %q for a %s channel; expected one of: %s", k, c.Type, strings.Join(allowed, ", "))
		}
	}
	for _, k := range t.required {
		if strings.TrimSpace(c.Options[k]) == "" {
			return nil, c.Errorf(k, "a %s channel needs %s", c.Type, k)
		}
	}
	h, err := newPoster(c, env)
	if err != nil {
		return nil, err
	}
	return t.build(c, h)
}

// BuildSuite builds the senders of every channel of a suite, by name.
func BuildSuite(s *check.Suite, env *Env) (map[string]Sender, error) {
	out := map[string]Sender{}
	for _, c := range s.Channels {
		snd, err := Build(c, env)
		if err != nil {
			return nil, err
		}
		out[c.Name] = snd
	}
	return out, nil
}

// poster is what every channel shares: its name and type for errors, the
// text template, and an HTTP client whose connections go through the
// policy, with a timeout and a response-size limit.
type poster struct {
	name, typ string
	tmpl      *template.Template
	client    *http.Client
	env       *Env
}

func newPoster(c *check.Channel, env *Env) (*poster, error) {
	if env == nil {
		env = &Env{}
	}
	e := *env
	if e.Policy == nil {
		e.Policy = netpolicy.Default()
	}
	if e.Timeout <= 0 {
		e.Timeout = 10 * time.Second
	}
	h := &poster{name: c.Name, typ: c.Type, env: &e}
	if src, ok := c.Options["template"]; ok {
		t, err := template.New(c.Name).Funcs(templateFuncs).Parse(src)
		if err != nil {
			return nil, c.Errorf("template", "bad template: %v", err)
		}
		h.tmpl = t
	}
	d := &netpolicy.Dialer{Policy: e.Policy}
	d.Base.Timeout = e.Timeout
	h.client = &http.Client{Timeout: e.Timeout,
		Transport: &http.Transport{DialContext: d.DialContext, TLSClientConfig: e.TLS, ForceAttemptHTTP2: true,
			ResponseHeaderTimeout: e.Timeout, MaxIdleConnsPerHost: 2, IdleConnTimeout: time.Minute},
		// A redirect is the receiver's answer, not followed.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return h, nil
}

// checkURL checks that an option is an http(s) URL.
func checkURL(c *check.Channel, key string) (string, error) {
	raw := c.Options[key]
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", c.Errorf(key, "%s must be an http:// or https:// URL", key)
	}
	return strings.TrimSuffix(raw, "/"), nil
}

// urlOr is option key as a URL, or def when the channel does not set it.
func urlOr(c *check.Channel, key, def string) (string, error) {
	if c.Options[key] == "" {
		return def, nil
	}
	return checkURL(c, key)
}

// request is one HTTP request of a sender.
type request struct {
	method, url string
	header      http.Header
	body        []byte
	// ok says whether a 2xx answer's body is a success (nil: any 2xx is).
	ok func(body []byte) error
}

// do sends the request and classifies the answer. Errors never contain the
// URL (it may hold a token): they name the channel.
func (h *poster) do(ctx context.Context, r request) error {
	method := r.method
	if method == "" {
		method = http.MethodPost
	}
	req, err := http.NewRequestWithContext(ctx, method, r.url, bytes.NewReader(r.body))
	if err != nil {
		return &DeliveryError{Permanent: true, Err: fmt.Errorf("%s channel %s: bad request: %w", h.typ, h.name, redactURL(err))}
	}
	for k, vs := range r.header {
		req.Header[k] = vs
	}
	if req.Header.Get("Content-Type") == "" && len(r.body) > 0 {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("User-Agent", "dnsscience-alert/1")
	resp, err := h.client.Do(req)
	if err != nil {
		return &DeliveryError{Permanent: errors.Is(err, netpolicy.ErrDenied), Err: fmt.Errorf("%s channel %s: %w", h.typ, h.name, redactURL(err))}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, MaxResponse))
	if resp.StatusCode/100 == 2 {
		if r.ok != nil {
			if err := r.ok(body); err != nil {
				return &DeliveryError{Status: resp.StatusCode, Err: fmt.Errorf("%s channel %s: %v", h.typ, h.name, err)}
			}
		}
		return nil
	}
	de := &DeliveryError{Status: resp.StatusCode, Err: fmt.Errorf("%s channel %s: %s: %s", h.typ, h.name, resp.Status, snippet(body))}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable:
		de.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), time.Now())
	case resp.StatusCode/100 == 4 && resp.StatusCode != http.StatusRequestTimeout:
		de.Permanent = true
	}
	return de
}

// redactURL is err without the URL a *url.Error carries.
func redactURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// retryAfter reads a Retry-After header: seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
