package alert

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/dnsscience/dnsscience/internal/check"
)

// pushoverType sends with Pushover's message API (url default
// https://api.pushover.net): the application token and the user key.
var pushoverType = channelType{required: []string{"token", "user"}, optional: []string{"url", "device"},
	build: func(c *check.Channel, h *poster) (Sender, error) {
		u, err := urlOr(c, "url", "https://api.pushover.net")
		if err != nil {
			return nil, err
		}
		return &pushover{poster: h, url: u, token: c.Options["token"], user: c.Options["user"], device: c.Options["device"]}, nil
	}}

type pushover struct {
	*poster
	url, token, user, device string
}

func (p *pushover) Send(ctx context.Context, m *Message) error {
	text, err := p.text(m)
	if err != nil {
		return err
	}
	prio := 0
	if m.Status == "down" && m.Event != EventResolve {
		prio = 1
	}
	msg := map[string]any{"token": p.token, "user": p.user, "title": truncate(m.Title(), 250), "message": truncate(text, 1024),
		"priority": prio, "timestamp": m.At.Unix()}
	if p.device != "" {
		msg["device"] = p.device
	}
	if m.Link != "" {
		msg["url"], msg["url_title"] = m.Link, "Open the check"
	}
	body, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	return p.do(ctx, request{url: p.url + "/1/messages.json", body: body, ok: func(b []byte) error {
		var r struct {
			Status int      `json:"status"`
			Errors []string `json:"errors"`
		}
		if json.Unmarshal(b, &r) != nil || r.Status != 1 {
			return fmt.Errorf("pushover refused the message: %v", r.Errors)
		}
		return nil
	}})
}
