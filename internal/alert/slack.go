package alert

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/dnsscience/dnsscience/internal/check"
)

// slackType posts to a Slack incoming webhook: a text fallback and Block
// Kit blocks (a header, the state, the failing layer, condition and value,
// and a link). Slack answers "ok".
var slackType = channelType{required: []string{"url"}, optional: []string{"channel", "username"},
	build: func(c *check.Channel, h *poster) (Sender, error) {
		u, err := checkURL(c, "url")
		if err != nil {
			return nil, err
		}
		return &slack{poster: h, url: u, channel: c.Options["channel"], username: c.Options["username"]}, nil
	}}

type slack struct {
	*poster
	url, channel, username string
}

type slackText struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type slackBlock struct {
	Type   string      `json:"type"`
	Text   *slackText  `json:"text,omitempty"`
	Fields []slackText `json:"fields,omitempty"`
}

// slackEscape escapes what Slack's mrkdwn reads as markup.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func (s *slack) Send(ctx context.Context, m *Message) error {
	text, err := s.text(m)
	if err != nil {
		return err
	}
	blocks := []slackBlock{{Type: "header", Text: &slackText{"plain_text", truncate(m.Title(), 150)}}}
	if s.tmpl != nil {
		blocks = append(blocks, slackBlock{Type: "section", Text: &slackText{"mrkdwn", slackEscape(text)}})
	} else {
		var fields []slackText
		add := func(k, v string) {
			if v != "" {
				fields = append(fields, slackText{"mrkdwn", fmt.Sprintf("*%s*\n%s", k, slackEscape(v))})
			}
		}
		add("Check", m.Check.Name)
		add("State", stateLine(m))
		if f := m.Failure; f != nil {
			add("Failing layer", f.Layer)
			add("Condition", f.Condition)
			add("Value", f.Value)
			add("Error", f.Error)
		}
		add("Target", strings.TrimSpace(m.Check.Kind+" "+m.Check.Target))
		add("Location", m.Location)
		if len(fields) > 10 { // Slack's most per section
			fields = fields[:10]
		}
		if len(fields) > 0 {
			blocks = append(blocks, slackBlock{Type: "section", Fields: fields})
		}
		if m.Summary != nil || m.Event == EventTest || m.Reason != "" {
			blocks = append(blocks, slackBlock{Type: "section", Text: &slackText{"mrkdwn", slackEscape(strings.Join(m.Lines(), "\n"))}})
		}
		if m.Link != "" {
			blocks = append(blocks, slackBlock{Type: "section", Text: &slackText{"mrkdwn", fmt.Sprintf("<%s|Open the check>", m.Link)}})
		}
	}
	body, err := json.Marshal(struct {
		Text     string       `json:"text"`
		Blocks   []slackBlock `json:"blocks"`
		Channel  string       `json:"channel,omitempty"`
		Username string       `json:"username,omitempty"`
	}{truncate(text, 3000), blocks, s.channel, s.username})
	if err != nil {
		return err
	}
	return s.do(ctx, request{url: s.url, body: body})
}

// stateLine is "down (was up)".
func stateLine(m *Message) string {
	if m.Status == "" {
		return ""
	}
	if m.Previous != "" {
		return m.Status + " (was " + m.Previous + ")"
	}
	return m.Status
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
