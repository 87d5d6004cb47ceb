package alert

import (
	"context"
	"encoding/json"

	"github.com/dnsscience/dnsscience/internal/check"
)

// mattermostType posts to a Mattermost incoming webhook: Markdown text.
var mattermostType = channelType{required: []string{"url"}, optional: []string{"channel", "username"},
	build: func(c *check.Channel, h *poster) (Sender, error) {
		u, err := checkURL(c, "url")
		if err != nil {
			return nil, err
		}
		return &mattermost{poster: h, url: u, channel: c.Options["channel"], username: c.Options["username"]}, nil
	}}

type mattermost struct {
	*poster
	url, channel, username string
}

func (mm *mattermost) Send(ctx context.Context, m *Message) error {
	text, err := mm.text(m)
	if err != nil {
		return err
	}
	if mm.tmpl == nil {
		text = "#### " + text
	}
	body, err := json.Marshal(struct {
		Text     string `json:"text"`
		Channel  string `json:"channel,omitempty"`
		Username string `json:"username,omitempty"`
	}{text, mm.channel, mm.username})
	if err != nil {
		return err
	}
	return mm.do(ctx, request{url: mm.url, body: body})
}
