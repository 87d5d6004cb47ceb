package alert

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"mime"
	"net"
	"net/smtp"
	"strings"
	"time"

	"github.com/dnsscience/dnsscience/internal/check"
	"github.com/dnsscience/dnsscience/internal/netpolicy"
)

// emailType sends mail over SMTP to smtp (host:port): STARTTLS by default
// (tls: starttls, required), implicit TLS (tls: implicit, port 465) or
// none (tls: none, only for a relay on the same host), then AUTH PLAIN
// when username is set.
var emailType = channelType{required: []string{"smtp", "from", "to"}, optional: []string{"username", "password", "tls"},
	build: func(c *check.Channel, h *poster) (Sender, error) {
		host, _, err := net.SplitHostPort(c.Options["smtp"])
		if err != nil || host == "" {
			return nil, c.Errorf("smtp", "smtp must be host:port such as smtp.example.com:587")
		}
		mode := c.Options["tls"]
		if mode == "" {
			mode = "starttls"
		}
		if mode != "starttls" && mode != "implicit" && mode != "none" {
			return nil, c.Errorf("tls", "tls must be starttls, implicit or none, not %q", mode)
		}
		var to []string
		for _, a := range strings.Split(c.Options["to"], ",") {
			if a = strings.TrimSpace(a); a != "" {
				to = append(to, a)
			}
		}
		return &email{poster: h, addr: c.Options["smtp"], host: host, from: c.Options["from"], to: to, user: c.Options["username"],
			pass: c.Options["password"], mode: mode}, nil
	}}

type email struct {
	*poster
	addr, host, from, user, pass, mode string
	to                                 []string
}

func (e *email) Send(ctx context.Context, m *Message) error {
	text, err := e.text(m)
	if err != nil {
		return err
	}
	if err := e.send(ctx, e.compose(m, text)); err != nil {
		return &DeliveryError{Err: fmt.Errorf("email channel %s: %w", e.name, err)}
	}
	return nil
}

func (e *email) compose(m *Message, text string) []byte {
	var b bytes.Buffer
	at := m.At
	if at.IsZero() {
		at = time.Now()
	}
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%s@dnsscience>\r\n", e.from, strings.Join(e.to, ", "),
		mime.QEncoding.Encode("utf-8", m.Title()), at.Format(time.RFC1123Z), m.Key)
	fmt.Fprintf(&b, "X-Dnsscience-Idempotency-Key: %s\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n", m.Key)
	// The DATA writer stuffs leading dots.
	for _, line := range strings.Split(text, "\n") {
		b.WriteString(line + "\r\n")
	}
	return b.Bytes()
}

func (e *email) send(ctx context.Context, msg []byte) error {
	d := &netpolicy.Dialer{Policy: e.env.Policy}
	d.Base.Timeout = e.env.Timeout
	conn, err := d.DialContext(ctx, "tcp", e.addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	deadline := time.Now().Add(e.env.Timeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	conn.SetDeadline(deadline)
	tc := &tls.Config{ServerName: e.host, MinVersion: tls.VersionTLS12}
	if e.env.TLS != nil {
		tc = e.env.TLS.Clone()
		tc.ServerName = e.host
	}
	if e.mode == "implicit" {
		conn = tls.Client(conn, tc)
	}
	c, err := smtp.NewClient(conn, e.host)
	if err != nil {
		return fmt.Errorf("greeting: %w", err)
	}
	defer c.Close()
	if e.mode == "starttls" {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return fmt.Errorf("the server offers no STARTTLS (set tls: none only for a local relay)")
		}
		if err := c.StartTLS(tc); err != nil {
			return fmt.Errorf("STARTTLS: %w", err)
		}
	}
	if e.user != "" {
		if err := c.Auth(smtp.PlainAuth("", e.user, e.pass, e.host)); err != nil {
			return fmt.Errorf("AUTH: %w", err)
		}
	}
	if err := c.Mail(e.from); err != nil {
		return fmt.Errorf("MAIL FROM: %w", err)
	}
	for _, rcpt := range e.to {
		if err := c.Rcpt(rcpt); err != nil {
			return fmt.Errorf("RCPT TO %s: %w", rcpt, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	return c.Quit()
}
