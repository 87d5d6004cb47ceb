package alert

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/dnsscience/dnsscience/internal/check"
)

// pagerDutyType sends PagerDuty Events API v2 events to url (default
// https://events.pagerduty.com/v2/enqueue): trigger on down, resolve on
// recovery, with the check's dedup_key so they close the same incident.
var pagerDutyType = channelType{required: []string{"routing_key"}, optional: []string{"url"},
	build: func(c *check.Channel, h *poster) (Sender, error) {
		u, err := urlOr(c, "url", "https://events.pagerduty.com/v2/enqueue")
		if err != nil {
			return nil, err
		}
		return &pagerDuty{poster: h, url: u, key: c.Options["routing_key"]}, nil
	}}

type pagerDuty struct {
	*poster
	url, key string
}

func (p *pagerDuty) Send(ctx context.Context, m *Message) error {
	text, err := p.text(m)
	if err != nil {
		return err
	}
	action := "trigger"
	if m.Event == EventResolve {
		action = "resolve"
	}
	sev := m.Severity
	if sev == "" || m.Event == EventTest {
		sev = "info"
	}
	ev := map[string]any{"routing_key": p.key, "event_action": action, "dedup_key": m.DedupKey(), "client": "dnsscience"}
	if m.Link != "" {
		ev["client_url"] = m.Link
	}
	if action == "trigger" {
		source := m.Check.Target
		if source == "" {
			source = m.Check.Name
		}
		ev["payload"] = map[string]any{"summary": truncate(m.Title(), 1024), "source": source, "severity": sev,
			"component": m.Check.ID, "group": m.Check.Group, "class": m.Check.Kind, "timestamp": m.At,
			"custom_details": map[string]any{"text": text, "location": m.Location, "failure": m.Failure, "idempotency_key": m.Key}}
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	return p.do(ctx, request{url: p.url, body: body, ok: func(b []byte) error {
		var r struct{ Status string }
		if json.Unmarshal(b, &r) != nil || r.Status != "success" {
			return fmt.Errorf("PagerDuty did not accept the event: %s", snippet(b))
		}
		return nil
	}})
}
