package alert

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/dnsscience/dnsscience/internal/check"
)

// telegramType sends with the Bot API's sendMessage (url default
// https://api.telegram.org) to chat_id.
var telegramType = channelType{required: []string{"bot_token", "chat_id"}, optional: []string{"url"},
	build: func(c *check.Channel, h *poster) (Sender, error) {
		u, err := urlOr(c, "url", "https://api.telegram.org")
		if err != nil {
			return nil, err
		}
		return &telegram{poster: h, url: u, token: c.Options["bot_token"], chat: c.Options["chat_id"]}, nil
	}}

type telegram struct {
	*poster
	url, token, chat string
}

func (t *telegram) Send(ctx context.Context, m *Message) error {
	text, err := t.text(m)
	if err != nil {
		return err
	}
	body, err := json.Marshal(map[string]any{"chat_id": t.chat, "text": truncate(text, 4096), "disable_web_page_preview": true})
	if err != nil {
		return err
	}
	return t.do(ctx, request{url: t.url + "/bot" + t.token + "/sendMessage", body: body, ok: func(b []byte) error {
		var r struct {
			OK          bool   `json:"ok"`
			Description string `json:"description"`
		}
		if json.Unmarshal(b, &r) != nil || !r.OK {
			return fmt.Errorf("telegram refused the message: %s", r.Description)
		}
		return nil
	}})
}
