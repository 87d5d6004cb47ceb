package alert

import (
	"context"
	"net/http"

	"github.com/dnsscience/dnsscience/internal/check"
)

// ntfyType publishes to an ntfy topic URL (https://ntfy.sh/TOPIC or a
// server of one's own): the text as the body, Title, Priority, Tags and
// Click headers, and a bearer token when set.
var ntfyType = channelType{required: []string{"url"}, optional: []string{"token"},
	build: func(c *check.Channel, h *poster) (Sender, error) {
		u, err := checkURL(c, "url")
		if err != nil {
			return nil, err
		}
		return &ntfy{poster: h, url: u, token: c.Options["token"]}, nil
	}}

type ntfy struct {
	*poster
	url, token string
}

func (n *ntfy) Send(ctx context.Context, m *Message) error {
	text, err := n.text(m)
	if err != nil {
		return err
	}
	prio, tags := "default", "information_source"
	switch {
	case m.Event == EventResolve:
		tags = "white_check_mark"
	case m.Status == "down" || m.Event == EventSummary:
		prio, tags = "high", "rotating_light"
	case m.Status == "degraded":
		tags = "warning"
	}
	hdr := http.Header{"Title": {m.Title()}, "Priority": {prio}, "Tags": {tags}, "Content-Type": {"text/plain; charset=utf-8"}}
	if m.Link != "" {
		hdr.Set("Click", m.Link)
	}
	if n.token != "" {
		hdr.Set("Authorization", "Bearer "+n.token)
	}
	return n.do(ctx, request{url: n.url, header: hdr, body: []byte(text)})
}
