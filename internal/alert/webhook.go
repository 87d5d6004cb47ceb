package alert

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"

	"github.com/dnsscience/dnsscience/internal/check"
)

// webhookType posts the message as JSON (docs/ALERTS.md) with an
// Idempotency-Key header and, when a secret is set, X-Dnsscience-Signature:
// sha256=HEX, the HMAC-SHA256 of the body keyed with the secret.
var webhookType = channelType{required: []string{"url"}, optional: []string{"secret"},
	build: func(c *check.Channel, h *poster) (Sender, error) {
		u, err := checkURL(c, "url")
		if err != nil {
			return nil, err
		}
		return &webhook{poster: h, url: u, secret: c.Options["secret"]}, nil
	}}

type webhook struct {
	*poster
	url, secret string
}

// webhookBody is the message with its rendered text.
type webhookBody struct {
	*Message
	Text string `json:"text"`
}

func (w *webhook) Send(ctx context.Context, m *Message) error {
	text, err := w.text(m)
	if err != nil {
		return err
	}
	body, err := json.Marshal(webhookBody{m, text})
	if err != nil {
		return err
	}
	hdr := http.Header{"Idempotency-Key": {m.Key}}
	if w.secret != "" {
		hdr.Set("X-Dnsscience-Signature", Sign(w.secret, body))
	}
	return w.do(ctx, request{url: w.url, header: hdr, body: body})
}

// Sign is the X-Dnsscience-Signature of body: "sha256=" and the hex
// HMAC-SHA256 keyed with secret.
func Sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}
