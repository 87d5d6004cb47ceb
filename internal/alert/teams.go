package alert

import (
	"context"
	"encoding/json"

	"github.com/dnsscience/dnsscience/internal/check"
)

// teamsType posts to a Microsoft Teams workflow webhook ("Post to a channel
// when a webhook request is received"): a message with one Adaptive Card.
var teamsType = channelType{required: []string{"url"},
	build: func(c *check.Channel, h *poster) (Sender, error) {
		u, err := checkURL(c, "url")
		if err != nil {
			return nil, err
		}
		return &teams{poster: h, url: u}, nil
	}}

type teams struct {
	*poster
	url string
}

type adaptiveElement struct {
	Type   string `json:"type"`
	Text   string `json:"text"`
	Weight string `json:"weight,omitempty"`
	Size   string `json:"size,omitempty"`
	Wrap   bool   `json:"wrap"`
}

func (t *teams) Send(ctx context.Context, m *Message) error {
	text, err := t.text(m)
	if err != nil {
		return err
	}
	elems := []adaptiveElement{{Type: "TextBlock", Text: m.Title(), Weight: "Bolder", Size: "Medium", Wrap: true},
		{Type: "TextBlock", Text: text, Wrap: true}}
	card := map[string]any{"$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard", "version": "1.4", "body": elems}
	if m.Link != "" {
		card["actions"] = []map[string]string{{"type": "Action.OpenUrl", "title": "Open the check", "url": m.Link}}
	}
	body, err := json.Marshal(map[string]any{"type": "message",
		"attachments": []map[string]any{{"contentType": "application/vnd.microsoft.card.adaptive", "content": card}}})
	if err != nil {
		return err
	}
	return t.do(ctx, request{url: t.url, body: body})
}
