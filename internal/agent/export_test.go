package agent

import (
	"net"
	"testing"

	"github.com/nats-io/nats.go"
)

// WebSocketDialer is the agent's dialer to a server URL, for tests that
// speak NATS themselves.
func WebSocketDialer(t *testing.T, server string) nats.CustomDialer {
	d, err := newWSDialer(server, (&net.Dialer{}).DialContext)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
