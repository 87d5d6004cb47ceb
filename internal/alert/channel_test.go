package alert

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dnsscience/dnsscience/internal/check"
	"github.com/dnsscience/dnsscience/internal/netpolicy"
)

// loopbackEnv allows the test receivers on loopback (the server's default
// policy refuses them).
func loopbackEnv() *Env {
	return &Env{Policy: netpolicy.Default().Allow(netip.MustParsePrefix("127.0.0.0/8")), Timeout: 5 * time.Second}
}

func downMessage() *Message {
	return &Message{Version: 1, Event: EventTrigger, Key: "k123", Check: CheckInfo{ID: "api-health", Name: "api health", Kind: "http",
		Target: "https://api.example.test/health", Group: "edge"}, Location: "local", Status: "down", Previous: "up",
		Reason: "3 failing runs in a row", At: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC), Severity: "critical",
		Failure: &Failure{Layer: "tls", Condition: "cert.days_left > 14", Value: "cert.days_left=3"}, Link: "https://dnss.example.test/checks/api-health"}
}

// got is one request a receiver saw.
type got struct {
	method, path, query string
	header              http.Header
	body                []byte
}

// receiver is a loopback HTTP server that records requests and answers
// with status and body.
func receiver(t *testing.T, status int, answer string) (*httptest.Server, func() []got) {
	t.Helper()
	var (
		mu  sync.Mutex
		all []got
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		all = append(all, got{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Clone(), b})
		mu.Unlock()
		w.WriteHeader(status)
		io.WriteString(w, answer)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []got { mu.Lock(); defer mu.Unlock(); return append([]got(nil), all...) }
}

func channel(typ string, opts map[string]string) *check.Channel {
	return &check.Channel{Name: "c1", Type: typ, Options: opts, File: "s.yaml", Line: 3}
}

func decode(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("body is not JSON: %v: %s", err, b)
	}
	return m
}

// path reads a value out of decoded JSON: "a.b.0.c".
func path(v any, p string) any {
	for _, k := range strings.Split(p, ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[k]
		case []any:
			i := 0
			for _, c := range k {
				i = i*10 + int(c-'0')
			}
			if i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

func send(t *testing.T, c *check.Channel, m *Message) error {
	t.Helper()
	s, err := Build(c, loopbackEnv())
	if err != nil {
		t.Fatal(err)
	}
	return s.Send(context.Background(), m)
}

// one is the single request a channel made.
func one(t *testing.T, reqs func() []got) got {
	t.Helper()
	all := reqs()
	if len(all) != 1 {
		t.Fatalf("%d requests, want 1", len(all))
	}
	return all[0]
}

func TestWebhook(t *testing.T) {
	t.Parallel()
	srv, reqs := receiver(t, 204, "")
	if err := send(t, channel("webhook", map[string]string{"url": srv.URL + "/hook", "secret": "s3cret"}), downMessage()); err != nil {
		t.Fatal(err)
	}
	r := one(t, reqs)
	if r.method != "POST" || r.path != "/hook" || r.header.Get("Content-Type") != "application/json" || r.header.Get("Idempotency-Key") != "k123" {
		t.Fatalf("request %+v", r)
	}
	// The signature is checked the way a receiver would: HMAC of the raw body.
	mac := hmac.New(sha256.New, []byte("s3cret"))
	mac.Write(r.body)
	if want := "sha256=" + hex.EncodeToString(mac.Sum(nil)); r.header.Get("X-Dnsscience-Signature") != want {
		t.Fatalf("signature %q, want %q", r.header.Get("X-Dnsscience-Signature"), want)
	}
	b := decode(t, r.body)
	for p, want := range map[string]any{"version": 1.0, "event": "trigger", "idempotency_key": "k123", "check.id": "api-health", "status": "down",
		"previous": "up", "failure.layer": "tls", "failure.condition": "cert.days_left > 14", "failure.value": "cert.days_left=3", "severity": "critical"} {
		if got := path(b, p); got != want {
			t.Errorf("%s = %v, want %v", p, got, want)
		}
	}
	if !strings.Contains(path(b, "text").(string), "[DOWN] api health") {
		t.Errorf("text %v", path(b, "text"))
	}
}

func TestSlack(t *testing.T) {
	t.Parallel()
	srv, reqs := receiver(t, 200, "ok")
	if err := send(t, channel("slack", map[string]string{"url": srv.URL + "/services/T0/B0/XX"}), downMessage()); err != nil {
		t.Fatal(err)
	}
	r := one(t, reqs)
	if r.method != "POST" || r.path != "/services/T0/B0/XX" || r.header.Get("Content-Type") != "application/json" {
		t.Fatalf("request %+v", r)
	}
	b := decode(t, r.body)
	if path(b, "blocks.0.type") != "header" || path(b, "blocks.0.text.type") != "plain_text" || path(b, "blocks.0.text.text") != "[DOWN] api health" {
		t.Fatalf("header block %s", r.body)
	}
	var texts []string
	for _, blk := range b["blocks"].([]any) {
		if s, ok := path(blk, "text.text").(string); ok {
			texts = append(texts, s)
		}
		fields, _ := path(blk, "fields").([]any)
		for _, f := range fields {
			texts = append(texts, path(f, "text").(string))
		}
	}
	all := strings.Join(texts, "\n")
	for _, want := range []string{"*Check*\napi health", "*State*\ndown (was up)", "*Failing layer*\ntls", "*Condition*\ncert.days_left &gt; 14",
		"*Value*\ncert.days_left=3", "<https://dnss.example.test/checks/api-health|Open the check>"} {
		if !strings.Contains(all, want) {
			t.Errorf("missing %q in %s", want, all)
		}
	}
	if !strings.HasPrefix(path(b, "text").(string), "[DOWN] api health") {
		t.Errorf("fallback text %v", path(b, "text"))
	}
}

func TestPagerDuty(t *testing.T) {
	t.Parallel()
	srv, reqs := receiver(t, 202, `{"status":"success","message":"Event processed","dedup_key":"x"}`)
	c := channel("pagerduty", map[string]string{"routing_key": "R0UT1NG", "url": srv.URL + "/v2/enqueue"})
	if err := send(t, c, downMessage()); err != nil {
		t.Fatal(err)
	}
	up := downMessage()
	up.Event, up.Status, up.Previous, up.Failure = EventResolve, "up", "down", nil
	if err := send(t, c, up); err != nil {
		t.Fatal(err)
	}
	all := reqs()
	if len(all) != 2 {
		t.Fatalf("%d requests", len(all))
	}
	tr, re := decode(t, all[0].body), decode(t, all[1].body)
	if all[0].path != "/v2/enqueue" || tr["event_action"] != "trigger" || tr["routing_key"] != "R0UT1NG" || path(tr, "payload.severity") != "critical" ||
		path(tr, "payload.source") != "https://api.example.test/health" || path(tr, "payload.summary") != "[DOWN] api health" {
		t.Fatalf("trigger %s", all[0].body)
	}
	if re["event_action"] != "resolve" || re["dedup_key"] != tr["dedup_key"] || re["dedup_key"] != "dnsscience/api-health/local" || re["payload"] != nil {
		t.Fatalf("resolve %s (trigger dedup %v)", all[1].body, tr["dedup_key"])
	}
	// PagerDuty's refusal (invalid routing key) is a permanent failure.
	bad, _ := receiver(t, 400, `{"status":"invalid event","message":"Event object is invalid"}`)
	err := send(t, channel("pagerduty", map[string]string{"routing_key": "x", "url": bad.URL}), downMessage())
	var de *DeliveryError
	if !errors.As(err, &de) || !de.Permanent || de.Status != 400 {
		t.Fatalf("400: %v", err)
	}
}

func TestOpsgenie(t *testing.T) {
	t.Parallel()
	srv, reqs := receiver(t, 202, `{"result":"Request will be processed","requestId":"r1"}`)
	c := channel("opsgenie", map[string]string{"api_key": "genie-key", "url": srv.URL, "responders": "sre"})
	if err := send(t, c, downMessage()); err != nil {
		t.Fatal(err)
	}
	up := downMessage()
	up.Event, up.Status = EventResolve, "up"
	if err := send(t, c, up); err != nil {
		t.Fatal(err)
	}
	all := reqs()
	cr := decode(t, all[0].body)
	if all[0].path != "/v2/alerts" || all[0].header.Get("Authorization") != "GenieKey genie-key" || cr["alias"] != "dnsscience/api-health/local" ||
		cr["priority"] != "P1" || path(cr, "responders.0.name") != "sre" || cr["message"] != "[DOWN] api health" {
		t.Fatalf("create %+v %s", all[0], all[0].body)
	}
	if all[1].path != "/v2/alerts/dnsscience%2Fapi-health%2Flocal/close" && all[1].path != "/v2/alerts/dnsscience/api-health/local/close" {
		t.Fatalf("close path %q", all[1].path)
	}
	if all[1].query != "identifierType=alias" || all[1].header.Get("Authorization") != "GenieKey genie-key" {
		t.Fatalf("close %+v", all[1])
	}
}

func TestChatChannels(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		typ    string
		opts   map[string]string
		status int
		answer string
		check  func(t *testing.T, r got)
	}{
		{"discord", map[string]string{"url": "/api/webhooks/1/tok"}, 204, "", func(t *testing.T, r got) {
			b := decode(t, r.body)
			if r.path != "/api/webhooks/1/tok" || path(b, "embeds.0.title") != "[DOWN] api health" || path(b, "embeds.0.color") != float64(0xe01e5a) ||
				!strings.Contains(path(b, "embeds.0.description").(string), "Condition: cert.days_left > 14 (got cert.days_left=3)") {
				t.Fatalf("%s", r.body)
			}
		}},
		{"teams", map[string]string{"url": "/workflows/abc"}, 202, "", func(t *testing.T, r got) {
			b := decode(t, r.body)
			if b["type"] != "message" || path(b, "attachments.0.contentType") != "application/vnd.microsoft.card.adaptive" ||
				path(b, "attachments.0.content.type") != "AdaptiveCard" || path(b, "attachments.0.content.body.0.text") != "[DOWN] api health" ||
				path(b, "attachments.0.content.actions.0.url") != "https://dnss.example.test/checks/api-health" {
				t.Fatalf("%s", r.body)
			}
		}},
		{"mattermost", map[string]string{"url": "/hooks/xyz", "channel": "alerts"}, 200, "ok", func(t *testing.T, r got) {
			b := decode(t, r.body)
			if r.path != "/hooks/xyz" || b["channel"] != "alerts" || !strings.HasPrefix(b["text"].(string), "#### [DOWN] api health\n") {
				t.Fatalf("%s", r.body)
			}
		}},
		{"googlechat", map[string]string{"url": "/v1/spaces/AAA/messages?key=K&token=T"}, 200, `{"name":"spaces/AAA/messages/1"}`, func(t *testing.T, r got) {
			b := decode(t, r.body)
			if r.path != "/v1/spaces/AAA/messages" || !strings.Contains(r.query, "key=K") || !strings.Contains(r.query, "token=T") ||
				!strings.Contains(r.query, "messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD") || path(b, "thread.threadKey") != "dnsscience/api-health/local" ||
				!strings.HasPrefix(b["text"].(string), "[DOWN] api health") || !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
				t.Fatalf("%+v %s", r, r.body)
			}
		}},
		{"telegram", map[string]string{"bot_token": "123:ABC", "chat_id": "-100", "url": ""}, 200, `{"ok":true,"result":{"message_id":1}}`, func(t *testing.T, r got) {
			b := decode(t, r.body)
			if r.path != "/bot123:ABC/sendMessage" || b["chat_id"] != "-100" || !strings.HasPrefix(b["text"].(string), "[DOWN] api health") {
				t.Fatalf("%+v %s", r, r.body)
			}
		}},
		{"ntfy", map[string]string{"url": "/alerts", "token": "tk_1"}, 200, `{"id":"x"}`, func(t *testing.T, r got) {
			if r.path != "/alerts" || r.header.Get("Title") != "[DOWN] api health" || r.header.Get("Priority") != "high" || r.header.Get("Authorization") != "Bearer tk_1" ||
				r.header.Get("Click") != "https://dnss.example.test/checks/api-health" || !strings.Contains(string(r.body), "Failing layer: tls") {
				t.Fatalf("%+v %s", r, r.body)
			}
		}},
		{"pushover", map[string]string{"token": "apptoken", "user": "userkey", "url": ""}, 200, `{"status":1,"request":"r"}`, func(t *testing.T, r got) {
			b := decode(t, r.body)
			if r.path != "/1/messages.json" || b["token"] != "apptoken" || b["user"] != "userkey" || b["title"] != "[DOWN] api health" || b["priority"] != 1.0 {
				t.Fatalf("%s", r.body)
			}
		}},
		{"matrix", map[string]string{"url": "", "access_token": "syt_x", "room_id": "!room:example.test"}, 200, `{"event_id":"$e"}`, func(t *testing.T, r got) {
			b := decode(t, r.body)
			if r.method != "PUT" || r.path != "/_matrix/client/v3/rooms/!room:example.test/send/m.room.message/k123" || r.header.Get("Authorization") != "Bearer syt_x" ||
				b["msgtype"] != "m.text" || b["format"] != "org.matrix.custom.html" || !strings.Contains(b["formatted_body"].(string), "<strong>[DOWN] api health</strong>") {
				t.Fatalf("%+v %s", r, r.body)
			}
		}},
	} {
		t.Run(tc.typ, func(t *testing.T) {
			t.Parallel()
			srv, reqs := receiver(t, tc.status, tc.answer)
			opts := map[string]string{}
			for k, v := range tc.opts {
				switch {
				case k == "url" && (v == "" || strings.HasPrefix(v, "/")):
					opts[k] = srv.URL + v
				default:
					opts[k] = v
				}
			}
			if err := send(t, channel(tc.typ, opts), downMessage()); err != nil {
				t.Fatal(err)
			}
			r := one(t, reqs)
			if r.method != "PUT" && r.method != "POST" {
				t.Fatalf("method %s", r.method)
			}
			tc.check(t, r)
		})
	}
}

// A 2xx whose body says no is a failure (Telegram, Pushover, PagerDuty).
func TestRefusalInBody(t *testing.T) {
	t.Parallel()
	srv, _ := receiver(t, 200, `{"ok":false,"description":"chat not found"}`)
	err := send(t, channel("telegram", map[string]string{"bot_token": "1:A", "chat_id": "1", "url": srv.URL}), downMessage())
	if err == nil || !strings.Contains(err.Error(), "chat not found") {
		t.Fatalf("got %v", err)
	}
}

func TestTemplateOverride(t *testing.T) {
	t.Parallel()
	srv, reqs := receiver(t, 200, "ok")
	c := channel("mattermost", map[string]string{"url": srv.URL, "template": `{{.Check.Name | upper}} {{.Status}} {{with .Failure}}{{.Layer}}{{end}}`})
	if err := send(t, c, downMessage()); err != nil {
		t.Fatal(err)
	}
	if b := decode(t, one(t, reqs).body); b["text"] != "API HEALTH down tls" {
		t.Fatalf("text %q", b["text"])
	}
	_, err := Build(channel("slack", map[string]string{"url": "https://x.test/", "template": "{{.Nope"}), nil)
	if err == nil || !strings.Contains(err.Error(), "s.yaml:3: channel \"c1\": bad template") {
		t.Fatalf("bad template: %v", err)
	}
}

func TestBuildErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		c    *check.Channel
		want string
	}{
		{channel("carrier-pigeon", nil), `unknown type "carrier-pigeon"; expected one of: discord, email, googlechat, matrix, mattermost, ntfy, opsgenie, pagerduty, pushover, slack, teams, telegram, webhook`},
		{channel("slack", map[string]string{}), "a slack channel needs url"},
		{channel("slack", map[string]string{"url": "ftp://x"}), "url must be an http:// or https:// URL"},
		{channel("webhook", map[string]string{"url": "https://x.test", "secrett": "x"}), `unknown option "secrett" for a webhook channel; expected one of: url, secret, template`},
		{channel("email", map[string]string{"smtp": "mail.test", "from": "a@x", "to": "b@x"}), "smtp must be host:port"},
		{channel("email", map[string]string{"smtp": "mail.test:25", "from": "a@x", "to": "b@x", "tls": "maybe"}), "tls must be starttls, implicit or none"},
	} {
		_, err := Build(tc.c, nil)
		if !errors.Is(err, check.ErrSuite) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "s.yaml:3") {
			t.Errorf("%s: got %v, want %q", tc.c.Type, err, tc.want)
		}
	}
}

// The server's policy refuses a webhook on a private address, and the
// error (kept in the outbox and logs) does not show the URL's secret.
func TestPolicyRefusesPrivateAndHidesURL(t *testing.T) {
	t.Parallel()
	srv, reqs := receiver(t, 200, "ok")
	s, err := Build(channel("slack", map[string]string{"url": srv.URL + "/services/SECRET-TOKEN"}), &Env{Policy: netpolicy.Default()})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(context.Background(), downMessage())
	var de *DeliveryError
	if !errors.Is(err, netpolicy.ErrDenied) || !errors.As(err, &de) || !de.Permanent {
		t.Fatalf("got %v, want a permanent refusal by the policy", err)
	}
	if strings.Contains(err.Error(), "SECRET-TOKEN") || strings.Contains(err.Error(), srv.URL) {
		t.Fatalf("the error shows the URL: %v", err)
	}
	if len(reqs()) != 0 {
		t.Fatal("the receiver was reached")
	}
}

// Responses are read up to MaxResponse; 429 and 503 carry Retry-After.
func TestRetryAfterAndResponseLimit(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "120")
		w.WriteHeader(http.StatusTooManyRequests)
		io.WriteString(w, strings.Repeat("x", 10<<20))
	}))
	t.Cleanup(srv.Close)
	err := send(t, channel("webhook", map[string]string{"url": srv.URL}), downMessage())
	var de *DeliveryError
	if !errors.As(err, &de) || de.Permanent || de.Status != 429 || de.RetryAfter != 2*time.Minute || len(err.Error()) > 400 {
		t.Fatalf("got %#v", err)
	}
	if d := retryAfter("Wed, 02 Dec 2026 06:00:30 GMT", time.Date(2026, 12, 2, 6, 0, 0, 0, time.UTC)); d != 30*time.Second {
		t.Fatalf("date form: %v", d)
	}
}
