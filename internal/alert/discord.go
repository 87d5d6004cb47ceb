package alert

import (
	"context"
	"encoding/json"

	"github.com/dnsscience/dnsscience/internal/check"
)

// discordType posts to a Discord webhook: content and one embed whose
// colour follows the state.
var discordType = channelType{required: []string{"url"}, optional: []string{"username"},
	build: func(c *check.Channel, h *poster) (Sender, error) {
		u, err := checkURL(c, "url")
		if err != nil {
			return nil, err
		}
		return &discord{poster: h, url: u, username: c.Options["username"]}, nil
	}}

type discord struct {
	*poster
	url, username string
}

type discordEmbed struct {
	Title       string `json:"title"`
	Description string `json:"description"`
	Color       int    `json:"color"`
	URL         string `json:"url,omitempty"`
}

func (d *discord) Send(ctx context.Context, m *Message) error {
	text, err := d.text(m)
	if err != nil {
		return err
	}
	body, err := json.Marshal(struct {
		Content  string         `json:"content"`
		Username string         `json:"username,omitempty"`
		Embeds   []discordEmbed `json:"embeds"`
	}{truncate(m.Title(), 2000), d.username, []discordEmbed{{Title: truncate(m.Title(), 256), Description: truncate(text, 4096), Color: colour(m), URL: m.Link}}})
	if err != nil {
		return err
	}
	return d.do(ctx, request{url: d.url, body: body})
}

// colour is red for down, amber for degraded, green for up, blue otherwise.
func colour(m *Message) int {
	switch {
	case m.Event == EventResolve || m.Status == "up":
		return 0x2eb67d
	case m.Status == "down" || m.Event == EventSummary:
		return 0xe01e5a
	case m.Status == "degraded":
		return 0xecb22e
	}
	return 0x36c5f0
}
