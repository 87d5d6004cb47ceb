package netpolicy

import (
	"context"
	"net"
	"syscall"
)

// Dialer opens connections only to addresses its Policy allows. Host names
// are resolved by Base's resolver, then every address the dialer is about to
// connect to is checked in net.Dialer's Control hook, so the check sees the
// address actually used. It implements DialContext, so it plugs into
// dnsq.Client.Dialer and http.Transport.DialContext.
type Dialer struct {
	// Policy decides; nil allows everything.
	Policy *Policy
	// Base is copied for every dial (Timeout, Resolver, LocalAddr ...);
	// its own Control or ControlContext hook still runs after the check.
	Base net.Dialer
}

// Dialer returns a Dialer enforcing p with a zero net.Dialer as its base.
func (p *Policy) Dialer() *Dialer { return &Dialer{Policy: p} }

// DialContext dials like net.Dialer.DialContext and fails with an error
// wrapping ErrDenied when every address the name resolves to is denied.
func (d *Dialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	nd := d.Base
	prevCtx, prev := nd.ControlContext, nd.Control
	nd.Control = nil
	nd.ControlContext = func(ctx context.Context, network, address string, c syscall.RawConn) error {
		if err := d.Policy.CheckAddrPort(address); err != nil {
			return err
		}
		switch {
		case prevCtx != nil:
			return prevCtx(ctx, network, address, c)
		case prev != nil:
			return prev(network, address, c)
		}
		return nil
	}
	return nd.DialContext(ctx, network, address)
}
