package alert

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"strings"

	"github.com/dnsscience/dnsscience/internal/check"
)

// matrixType sends an m.room.message to a Matrix room through the
// client-server API of url (the homeserver) with an access token; the
// transaction id is the idempotency key, so the homeserver itself drops a
// repeated delivery.
var matrixType = channelType{required: []string{"url", "access_token", "room_id"},
	build: func(c *check.Channel, h *poster) (Sender, error) {
		u, err := checkURL(c, "url")
		if err != nil {
			return nil, err
		}
		return &matrix{poster: h, url: u, token: c.Options["access_token"], room: c.Options["room_id"]}, nil
	}}

type matrix struct {
	*poster
	url, token, room string
}

func (mx *matrix) Send(ctx context.Context, m *Message) error {
	text, err := mx.text(m)
	if err != nil {
		return err
	}
	formatted := "<strong>" + html.EscapeString(m.Title()) + "</strong><br>" + strings.ReplaceAll(html.EscapeString(strings.Join(m.Lines(), "\n")), "\n", "<br>")
	msg := map[string]string{"msgtype": "m.text", "body": text}
	if mx.tmpl == nil {
		msg["format"], msg["formatted_body"] = "org.matrix.custom.html", formatted
	}
	body, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	u := mx.url + "/_matrix/client/v3/rooms/" + url.PathEscape(mx.room) + "/send/m.room.message/" + url.PathEscape(m.Key)
	return mx.do(ctx, request{method: http.MethodPut, url: u, header: http.Header{"Authorization": {"Bearer " + mx.token}}, body: body})
}
