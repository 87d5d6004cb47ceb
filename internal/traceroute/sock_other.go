//go:build !linux

package traceroute

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"runtime"
)

// Probing needs Linux sockets (raw sockets with per-packet TTLs, ICMP
// datagram sockets, IP_RECVERR error queues); elsewhere every socket kind
// reports errUnsupported.

var errUnsupported = fmt.Errorf("traceroute probes are not implemented on %s: %w", runtime.GOOS, errors.ErrUnsupported)

var errClosed = os.ErrClosed

type sock struct {
	v6   bool
	errq bool
}

func (s *sock) close()                              {}
func (s *sock) caughtUp() bool                      { return true }
func (s *sock) recvErr() error                      { return errUnsupported }
func (s *sock) bind(netip.Addr, uint16) error       { return errUnsupported }
func (s *sock) connect(netip.Addr, uint16) error    { return errUnsupported }
func (s *sock) local() (netip.Addr, uint16, error)  { return netip.Addr{}, 0, errUnsupported }
func (s *sock) send([]byte, int, netip.Addr) error  { return errUnsupported }
func (s *sock) recv([]byte, []byte) (packet, error) { return packet{}, errClosed }
func (s *sock) bigBuffer()                          {}
func openRawICMP(bool) (*sock, error)               { return nil, errUnsupported }
func openRawTCP(bool) (*sock, error)                { return nil, errUnsupported }
func openPing(bool) (*sock, error)                  { return nil, errUnsupported }
func openUDP(bool) (*sock, error)                   { return nil, errUnsupported }
func openTCPPort(bool, netip.Addr) (*sock, error)   { return nil, errUnsupported }
func isPermission(error) bool                       { return false }
func isPendingICMPError(error) bool                 { return false }
