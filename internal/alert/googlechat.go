package alert

import (
	"context"
	"encoding/json"
	"net/url"

	"github.com/dnsscience/dnsscience/internal/check"
)

// googleChatType posts to a Google Chat space webhook: text, threaded by
// check (threadKey) so a recovery follows its failure.
var googleChatType = channelType{required: []string{"url"},
	build: func(c *check.Channel, h *poster) (Sender, error) {
		u, err := checkURL(c, "url")
		if err != nil {
			return nil, err
		}
		return &googleChat{poster: h, url: u}, nil
	}}

type googleChat struct {
	*poster
	url string
}

func (g *googleChat) Send(ctx context.Context, m *Message) error {
	text, err := g.text(m)
	if err != nil {
		return err
	}
	body, err := json.Marshal(map[string]any{"text": text, "thread": map[string]string{"threadKey": m.DedupKey()}})
	if err != nil {
		return err
	}
	u, err := url.Parse(g.url)
	if err != nil {
		return &DeliveryError{Permanent: true, Err: err}
	}
	q := u.Query()
	q.Set("messageReplyOption", "REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD")
	u.RawQuery = q.Encode()
	return g.do(ctx, request{url: u.String(), header: map[string][]string{"Content-Type": {"application/json; charset=UTF-8"}}, body: body})
}
