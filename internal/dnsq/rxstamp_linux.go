//go:build linux

package dnsq

import (
	"net"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// rxStampSpace is the room for one SCM_TIMESTAMPNS control message.
var rxStampSpace = unix.CmsgSpace(int(unsafe.Sizeof(unix.Timespec{})))

// enableRxStamps asks the kernel to stamp every datagram received on uc
// with its arrival time (SO_TIMESTAMPNS), so that a reply's RTT ends when
// it arrived, not when a batch of replies was read.
func enableRxStamps(uc *net.UDPConn) bool {
	rc, err := uc.SyscallConn()
	if err != nil {
		return false
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1)
	}); err != nil || serr != nil {
		return false
	}
	return true
}

// rxStamp finds the arrival time in a datagram's control messages.
func rxStamp(oob []byte) (time.Time, bool) {
	for len(oob) >= unix.SizeofCmsghdr {
		h := (*unix.Cmsghdr)(unsafe.Pointer(&oob[0]))
		n := int(h.Len)
		if n < unix.SizeofCmsghdr || n > len(oob) {
			return time.Time{}, false
		}
		data := unix.CmsgLen(0)
		if h.Level == unix.SOL_SOCKET && h.Type == unix.SCM_TIMESTAMPNS && n >= data+int(unsafe.Sizeof(unix.Timespec{})) {
			ts := (*unix.Timespec)(unsafe.Pointer(&oob[data]))
			return time.Unix(ts.Unix()), true
		}
		oob = oob[min(len(oob), unix.CmsgSpace(n-data)):]
	}
	return time.Time{}, false
}
