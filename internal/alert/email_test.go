package alert

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/dnsscience/dnsscience/internal/certtest"
)

// mailbox is a real SMTP server on loopback (go-smtp) that takes mail only
// over TLS after AUTH PLAIN with the right password.
type mailbox struct {
	mu    sync.Mutex
	authd []string
	mails []mail
}

type mail struct {
	from string
	to   []string
	data string
}

type session struct {
	box  *mailbox
	user string
	cur  mail
}

func (b *mailbox) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{box: b}, nil }

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != "alerts" || pass != "p4ss" {
			return errors.New("bad credentials")
		}
		s.user = user
		s.box.mu.Lock()
		s.box.authd = append(s.box.authd, user)
		s.box.mu.Unlock()
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.user == "" {
		return smtp.ErrAuthRequired
	}
	s.cur = mail{from: from}
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.cur.to = append(s.cur.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.cur.data = string(b)
	s.box.mu.Lock()
	s.box.mails = append(s.box.mails, s.cur)
	s.box.mu.Unlock()
	return nil
}

func (s *session) Reset()        {}
func (s *session) Logout() error { return nil }

// startSMTP serves a mailbox on 127.0.0.1 with STARTTLS (tlsOn) and
// returns its address and the client TLS config trusting it.
func startSMTP(t *testing.T, tlsOn bool) (string, *mailbox, *tls.Config) {
	t.Helper()
	ca := certtest.NewCA(t, "smtp test CA")
	box := &mailbox{}
	srv := smtp.NewServer(box)
	srv.Domain = "127.0.0.1"
	if tlsOn {
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{ca.Leaf(t, "127.0.0.1")}}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca.PEM())
	return ln.Addr().String(), box, &tls.Config{RootCAs: pool}
}

func TestEmail(t *testing.T) {
	t.Parallel()
	addr, box, tc := startSMTP(t, true)
	env := loopbackEnv()
	env.TLS = tc
	c := channel("email", map[string]string{"smtp": addr, "from": "dnsscience@example.test", "to": "ops@example.test, oncall@example.test",
		"username": "alerts", "password": "p4ss"})
	s, err := Build(c, env)
	if err != nil {
		t.Fatal(err)
	}
	m := downMessage()
	m.Reason = ".a line starting with a dot"
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	box.mu.Lock()
	defer box.mu.Unlock()
	if len(box.mails) != 1 || len(box.authd) != 1 {
		t.Fatalf("mails %+v auth %v", box.mails, box.authd)
	}
	got := box.mails[0]
	if got.from != "dnsscience@example.test" || strings.Join(got.to, ",") != "ops@example.test,oncall@example.test" {
		t.Fatalf("envelope %+v", got)
	}
	for _, want := range []string{"Subject: [DOWN] api health\r\n", "Message-ID: <k123@dnsscience>\r\n", "X-Dnsscience-Idempotency-Key: k123\r\n",
		"\r\n\r\n[DOWN] api health\r\n", "Failing layer: tls\r\n", "Condition: cert.days_left > 14 (got cert.days_left=3)\r\n", ": .a line starting with a dot\r\n"} {
		if !strings.Contains(got.data, want) {
			t.Errorf("mail lacks %q:\n%s", want, got.data)
		}
	}

	// A wrong password is refused by the server.
	c.Options["password"] = "wrong"
	s, _ = Build(c, env)
	if err := s.Send(context.Background(), m); err == nil || !strings.Contains(err.Error(), "AUTH") {
		t.Fatalf("wrong password: %v", err)
	}
}

// Without STARTTLS on offer the password is never sent in the clear.
func TestEmailNeedsSTARTTLS(t *testing.T) {
	t.Parallel()
	addr, box, _ := startSMTP(t, false)
	s, err := Build(channel("email", map[string]string{"smtp": addr, "from": "a@example.test", "to": "b@example.test", "username": "alerts", "password": "p4ss"}), loopbackEnv())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), downMessage()); err == nil || !strings.Contains(err.Error(), "no STARTTLS") {
		t.Fatalf("got %v", err)
	}
	if len(box.authd) != 0 {
		t.Fatal("authenticated without TLS")
	}
}
