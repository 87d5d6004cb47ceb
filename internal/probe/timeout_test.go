package probe

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"
)

// silentServer accepts connections and never writes or closes them.
func silentServer(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() {
		l.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().String()
}

// TestTimeouts: every probe gives up at its timeout against a server that
// accepts and then says nothing, naming the phase it was in.
func TestTimeouts(t *testing.T) {
	addr := silentServer(t)
	opts := Options{Timeout: 200 * time.Millisecond}
	tests := []struct {
		name  string
		run   func() (*Result, error)
		phase Phase
	}{
		{"tcp", func() (*Result, error) { return TCP(ctx(t), TCPRequest{Address: addr, Options: opts, Expect: "hello"}) }, PhaseRead},
		{"tls", func() (*Result, error) { return TLS(ctx(t), TLSRequest{Address: addr, Options: opts}) }, PhaseTLS},
		{"http", func() (*Result, error) { return HTTP(ctx(t), HTTPRequest{URL: "http://" + addr + "/", Options: opts}) }, PhaseHTTP},
		{"https", func() (*Result, error) { return HTTP(ctx(t), HTTPRequest{URL: "https://" + addr + "/", Options: opts}) }, PhaseTLS},
		{"ws", func() (*Result, error) { return WS(ctx(t), WSRequest{URL: "ws://" + addr + "/", Options: opts}) }, PhaseHTTP},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := tt.run()
			mustFail(t, r, err, tt.phase)
			if !strings.HasSuffix(r.Error, " timed out after 200ms") || strings.Contains(r.Error, "deadline") || !IsTimeout(r.Err) {
				t.Fatalf("got %q, want it to end \"timed out after 200ms\" (Err %v)", r.Error, r.Err)
			}
			if r.Timings.Total > 5*time.Second {
				t.Fatalf("took %v with a 200ms timeout", r.Timings.Total)
			}
		})
	}
}

// TestContextCancel: a cancelled context stops a probe.
func TestContextCancel(t *testing.T) {
	addr := silentServer(t)
	c, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	r, err := TCP(c, TCPRequest{Address: addr, Expect: "never", Options: Options{Timeout: time.Minute}})
	mustFail(t, r, err, PhaseRead)
	if r.Timings.Total > 10*time.Second {
		t.Fatalf("took %v after cancel", r.Timings.Total)
	}
}
