package dnsq

import (
	"net"
	"runtime"
	"testing"
	"time"

	"golang.org/x/net/ipv4"
)

// TestRxStampIsArrivalTime: a datagram read 200 ms after it arrived still
// carries its arrival time, so a bulk reply's RTT is its own and not that
// of the batch it was read in.
func TestRxStampIsArrivalTime(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("kernel receive stamps (SO_TIMESTAMPNS) are read on Linux only")
	}
	t.Parallel()
	rx, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	if !enableRxStamps(rx) {
		t.Fatal("SO_TIMESTAMPNS refused")
	}
	tx, err := net.DialUDP("udp4", nil, rx.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	// The kernel turns arrival stamping on through deferred work the first
	// time a socket asks for it; until then it stamps at read time. So a
	// few tries: one must be stamped at arrival although read 200 ms late.
	var d, late time.Duration
	for try := 0; try < 3; try++ {
		sent := time.Now()
		if _, err := tx.Write([]byte("reply")); err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond) // the reader is late: the stamp must not be
		msgs := []ipv4.Message{{Buffers: [][]byte{make([]byte, 64)}, OOB: make([]byte, rxStampSpace)}}
		if _, err := ipv4.NewPacketConn(rx).ReadBatch(msgs, 0); err != nil {
			t.Fatal(err)
		}
		late = time.Since(sent)
		at, ok := rxStamp(msgs[0].OOB[:msgs[0].NN])
		if !ok {
			t.Fatalf("no stamp in %d bytes of control data", msgs[0].NN)
		}
		if d = at.Sub(sent); d >= -time.Millisecond && d <= 100*time.Millisecond {
			return
		}
	}
	t.Errorf("stamped %v after sending, want about 0 (read %v after sending)", d, late)
}
