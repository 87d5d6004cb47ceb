package alert

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"

	"github.com/dnsscience/dnsscience/internal/check"
)

// opsgenieType creates an Opsgenie alert (POST /v2/alerts, alias = the
// check's dedup key) on down and closes it by alias on recovery; url is
// the API (default https://api.opsgenie.com, https://api.eu.opsgenie.com in
// the EU).
var opsgenieType = channelType{required: []string{"api_key"}, optional: []string{"url", "responders"},
	build: func(c *check.Channel, h *poster) (Sender, error) {
		u, err := urlOr(c, "url", "https://api.opsgenie.com")
		if err != nil {
			return nil, err
		}
		return &opsgenie{poster: h, url: u, key: c.Options["api_key"], team: c.Options["responders"]}, nil
	}}

type opsgenie struct {
	*poster
	url, key, team string
}

var opsgeniePriority = map[string]string{"critical": "P1", "error": "P2", "warning": "P3", "info": "P5"}

func (o *opsgenie) Send(ctx context.Context, m *Message) error {
	text, err := o.text(m)
	if err != nil {
		return err
	}
	hdr := http.Header{"Authorization": {"GenieKey " + o.key}}
	if m.Event == EventResolve {
		body, _ := json.Marshal(map[string]string{"source": "dnsscience", "note": text})
		return o.do(ctx, request{url: o.url + "/v2/alerts/" + url.PathEscape(m.DedupKey()) + "/close?identifierType=alias", header: hdr, body: body})
	}
	a := map[string]any{"message": truncate(m.Title(), 130), "alias": m.DedupKey(), "description": truncate(text, 15000),
		"source": "dnsscience", "priority": opsgeniePriority[m.Severity], "entity": m.Check.Target,
		"details": map[string]string{"check": m.Check.ID, "location": m.Location, "status": m.Status, "idempotency_key": m.Key}}
	if a["priority"] == "" {
		a["priority"] = "P3"
	}
	if o.team != "" {
		a["responders"] = []map[string]string{{"name": o.team, "type": "team"}}
	}
	body, err := json.Marshal(a)
	if err != nil {
		return err
	}
	return o.do(ctx, request{url: o.url + "/v2/alerts", header: hdr, body: body})
}
