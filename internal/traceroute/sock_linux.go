package traceroute

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// sock is a non-blocking socket driven by the Go poller.
type sock struct {
	f    *os.File
	rc   syscall.RawConn
	v6   bool
	errq bool // read the error queue too (IP_RECVERR)
	// reading is set from the start of every read until one finds the
	// socket empty: while it is clear the reader waits with nothing left.
	reading atomic.Bool
}

func openSock(v6 bool, typ, proto int) (*sock, error) {
	fam := unix.AF_INET
	if v6 {
		fam = unix.AF_INET6
	}
	fd, err := unix.Socket(fam, typ|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, proto)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), "traceroute")
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, err
	}
	s := &sock{f: f, rc: rc, v6: v6}
	// Ask for the TTL (hop limit) of what arrives.
	if v6 {
		err = s.setInt(unix.IPPROTO_IPV6, unix.IPV6_RECVHOPLIMIT, 1)
	} else {
		err = s.setInt(unix.IPPROTO_IP, unix.IP_RECVTTL, 1)
	}
	if err != nil {
		s.close()
		return nil, fmt.Errorf("asking for reply TTLs: %w", err)
	}
	// Kernel receive timestamps make RTTs exact even when the reader runs
	// late; without them the read time is used.
	_ = s.setInt(unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1)
	return s, nil
}

func (s *sock) close() { s.f.Close() }

// caughtUp reports whether the reader has read everything that arrived:
// it waits on an empty socket (the normal queue; the error queue of a
// datagram socket is not counted, a window of a few instructions).
func (s *sock) caughtUp() bool {
	if s.reading.Load() {
		return false
	}
	var n int
	var serr error
	if err := s.rc.Control(func(fd uintptr) { n, serr = unix.IoctlGetInt(int(fd), unix.SIOCINQ) }); err != nil || serr != nil {
		return true // closed: nothing more will be read
	}
	return n == 0 && !s.reading.Load()
}

func (s *sock) setInt(level, opt, v int) error {
	var serr error
	if err := s.rc.Control(func(fd uintptr) { serr = unix.SetsockoptInt(int(fd), level, opt, v) }); err != nil {
		return err
	}
	return serr
}

// recvErr turns on IP_RECVERR (IPV6_RECVERR) so ICMP errors about what the
// socket sent are queued for it.
func (s *sock) recvErr() error {
	s.errq = true
	if s.v6 {
		return s.setInt(unix.IPPROTO_IPV6, unix.IPV6_RECVERR, 1)
	}
	return s.setInt(unix.IPPROTO_IP, unix.IP_RECVERR, 1)
}

func (s *sock) bind(a netip.Addr, port uint16) error {
	var serr error
	err := s.rc.Control(func(fd uintptr) { serr = unix.Bind(int(fd), sockaddr(a, port)) })
	return errors.Join(err, serr)
}

func (s *sock) connect(a netip.Addr, port uint16) error {
	var serr error
	err := s.rc.Control(func(fd uintptr) { serr = unix.Connect(int(fd), sockaddr(a, port)) })
	return errors.Join(err, serr)
}

// local returns the socket's bound address and port.
func (s *sock) local() (netip.Addr, uint16, error) {
	var sa unix.Sockaddr
	var serr error
	if err := s.rc.Control(func(fd uintptr) { sa, serr = unix.Getsockname(int(fd)) }); err != nil {
		return netip.Addr{}, 0, err
	}
	if serr != nil {
		return netip.Addr{}, 0, serr
	}
	a, p := fromSockaddr(sa)
	return a, p, nil
}

// send writes b with the given TTL (hop limit) to dst (the zero Addr when
// the socket is connected).
func (s *sock) send(b []byte, ttl int, dst netip.Addr) error {
	oob := ttlControl(s.v6, ttl)
	var to unix.Sockaddr
	if dst.IsValid() {
		to = sockaddr(dst, 0)
	}
	var serr error
	err := s.rc.Write(func(fd uintptr) bool {
		_, serr = unix.SendmsgN(int(fd), b, oob, to, 0)
		return serr != unix.EAGAIN
	})
	return errors.Join(err, serr)
}

// recv reads the next datagram, from the error queue first when enabled.
func (s *sock) recv(buf, oob []byte) (packet, error) {
	var p packet
	var n, oobn int
	var from unix.Sockaddr
	var rerr error
	err := s.rc.Read(func(fd uintptr) bool {
		s.reading.Store(true)
		if s.errq {
			n, oobn, _, from, rerr = unix.Recvmsg(int(fd), buf, oob, unix.MSG_ERRQUEUE|unix.MSG_DONTWAIT)
			if rerr == nil {
				p.errq = true
				return true
			}
		}
		n, oobn, _, from, rerr = unix.Recvmsg(int(fd), buf, oob, unix.MSG_DONTWAIT)
		if rerr == unix.EAGAIN {
			s.reading.Store(false)
			return false
		}
		return true
	})
	if err != nil {
		return p, errClosed // the poller refuses only closed files
	}
	if rerr != nil {
		return p, rerr
	}
	p.arrived = time.Now()
	p.data = buf[:n]
	if from != nil {
		p.from, _ = fromSockaddr(from)
	}
	s.parseControl(&p, oob[:oobn])
	return p, nil
}

func (s *sock) parseControl(p *packet, oob []byte) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return
	}
	for _, m := range msgs {
		switch {
		case m.Header.Level == unix.SOL_SOCKET && m.Header.Type == unix.SCM_TIMESTAMPNS:
			if len(m.Data) >= 16 {
				sec := int64(binary.NativeEndian.Uint64(m.Data))
				nsec := int64(binary.NativeEndian.Uint64(m.Data[8:]))
				if sec > 0 {
					p.arrived = time.Unix(sec, nsec)
				}
			}
		case (m.Header.Level == unix.IPPROTO_IP && m.Header.Type == unix.IP_TTL) ||
			(m.Header.Level == unix.IPPROTO_IPV6 && m.Header.Type == unix.IPV6_HOPLIMIT):
			if len(m.Data) >= 4 {
				p.ttl = int(binary.NativeEndian.Uint32(m.Data))
			}
		case (m.Header.Level == unix.IPPROTO_IP && m.Header.Type == unix.IP_RECVERR) ||
			(m.Header.Level == unix.IPPROTO_IPV6 && m.Header.Type == unix.IPV6_RECVERR):
			parseExtendedErr(p, m.Data)
		}
	}
}

// parseExtendedErr reads a struct sock_extended_err and the offender
// address that follows it.
func parseExtendedErr(p *packet, d []byte) {
	const size = int(unsafe.Sizeof(unix.SockExtendedErr{}))
	if len(d) < size {
		return
	}
	origin := d[4]
	if origin != unix.SO_EE_ORIGIN_ICMP && origin != unix.SO_EE_ORIGIN_ICMP6 {
		return
	}
	p.eeType, p.eeCode = int(d[5]), int(d[6])
	off := d[size:]
	if len(off) < 8 {
		return
	}
	switch binary.NativeEndian.Uint16(off) {
	case unix.AF_INET:
		p.from = netip.AddrFrom4([4]byte(off[4:8]))
	case unix.AF_INET6:
		if len(off) >= 24 {
			p.from = netip.AddrFrom16([16]byte(off[8:24])).Unmap()
		}
	}
}

func ttlControl(v6 bool, ttl int) []byte {
	b := make([]byte, unix.CmsgSpace(4))
	h := (*unix.Cmsghdr)(unsafe.Pointer(&b[0]))
	if v6 {
		h.Level, h.Type = unix.IPPROTO_IPV6, unix.IPV6_HOPLIMIT
	} else {
		h.Level, h.Type = unix.IPPROTO_IP, unix.IP_TTL
	}
	h.SetLen(unix.CmsgLen(4))
	binary.NativeEndian.PutUint32(b[unix.CmsgLen(0):], uint32(ttl))
	return b
}

func sockaddr(a netip.Addr, port uint16) unix.Sockaddr {
	if a.Is4() {
		return &unix.SockaddrInet4{Addr: a.As4(), Port: int(port)}
	}
	return &unix.SockaddrInet6{Addr: a.As16(), Port: int(port)}
}

func fromSockaddr(sa unix.Sockaddr) (netip.Addr, uint16) {
	switch s := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrFrom4(s.Addr), uint16(s.Port)
	case *unix.SockaddrInet6:
		return netip.AddrFrom16(s.Addr).Unmap(), uint16(s.Port)
	}
	return netip.Addr{}, 0
}

// isPermission reports errors meaning "not allowed" rather than "broken".
func isPermission(err error) bool {
	return errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES)
}

// Socket constructors, one per kind.

func openRawICMP(v6 bool) (*sock, error) {
	if v6 {
		return openSock(true, unix.SOCK_RAW, unix.IPPROTO_ICMPV6)
	}
	return openSock(false, unix.SOCK_RAW, unix.IPPROTO_ICMP)
}

func openRawTCP(v6 bool) (*sock, error) {
	return openSock(v6, unix.SOCK_RAW, unix.IPPROTO_TCP)
}

func openPing(v6 bool) (*sock, error) {
	if v6 {
		return openSock(true, unix.SOCK_DGRAM, unix.IPPROTO_ICMPV6)
	}
	return openSock(false, unix.SOCK_DGRAM, unix.IPPROTO_ICMP)
}

func openUDP(v6 bool) (*sock, error) {
	return openSock(v6, unix.SOCK_DGRAM, unix.IPPROTO_UDP)
}

// openTCPPort reserves a local TCP port for the probes of one TCP flow, so
// no local connection uses it while the trace runs.
func openTCPPort(v6 bool, src netip.Addr) (*sock, error) {
	s, err := openSock(v6, unix.SOCK_STREAM, unix.IPPROTO_TCP)
	if err != nil {
		return nil, err
	}
	if err := s.bind(src, 0); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

// errClosed is what reads on a closed socket return.
var errClosed = os.ErrClosed

// isPendingICMPError reports the errors a connected UDP socket returns once
// after an ICMP error arrived for it.
func isPendingICMPError(err error) bool {
	return errors.Is(err, unix.ECONNREFUSED) || errors.Is(err, unix.EHOSTUNREACH) ||
		errors.Is(err, unix.ENETUNREACH) || errors.Is(err, unix.EPROTO)
}

// bigBuffer enlarges the receive buffer of a listener shared by many
// traces, so bursts of answers are not dropped (SO_RCVBUFFORCE as root,
// else SO_RCVBUF up to net.core.rmem_max).
func (s *sock) bigBuffer() {
	const size = 8 << 20
	if s.setInt(unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, size) != nil {
		_ = s.setInt(unix.SOL_SOCKET, unix.SO_RCVBUF, size)
	}
}
