//go:build !linux

package dnsq

import (
	"net"
	"time"
)

// Without kernel receive stamps a reply's arrival is when it was read.
var rxStampSpace = 0

func enableRxStamps(*net.UDPConn) bool { return false }

func rxStamp([]byte) (time.Time, bool) { return time.Time{}, false }
