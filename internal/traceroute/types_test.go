package traceroute

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestRequestValidation(t *testing.T) {
	target := netip.MustParseAddr("10.0.0.1")
	for _, tc := range []struct {
		req  Request
		want string
	}{
		{Request{}, "no target address"},
		{Request{Target: target, MaxHops: 256}, "max hops 256: want 1 to 255"},
		{Request{Target: target, MaxHops: -1}, "max hops -1: want 1 to 255"},
		{Request{Target: target, Queries: 11}, "probes per hop 11: want 1 to 10"},
		{Request{Target: target, Flows: 65}, "flows 65: want 1 to 64"},
		{Request{Target: target, Protocol: "sctp"}, `protocol "sctp": want icmp, udp or tcp`},
		{Request{Target: target, Rounds: -2}, "rounds -2"},
	} {
		_, err := tc.req.withDefaults()
		if !errors.Is(err, ErrBadRequest) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: got %v, want ErrBadRequest saying %q", tc.req, err, tc.want)
		}
	}
	r, err := Request{Target: target, Protocol: UDP}.withDefaults()
	if err != nil || r.MaxHops != 30 || r.Queries != 3 || r.Port != 33434 || r.Timeout != time.Second || r.Gap != 5 {
		t.Errorf("defaults: got %+v, %v", r, err)
	}
	r, _ = Request{Target: target, Rounds: 5}.withDefaults()
	if r.Queries != 1 {
		t.Errorf("MTR mode queries default %d, want 1", r.Queries)
	}
}

func TestStats(t *testing.T) {
	var a accumulator
	for _, ms := range []int{10, 20, 15} {
		a.add(time.Duration(ms) * time.Millisecond)
	}
	a.lost(false)
	s := a.stats()
	want := Stats{Sent: 4, Received: 3, LossPct: 25, LastMS: 15, AvgMS: 15, BestMS: 10, WorstMS: 20, StdDevMS: 5, JitterMS: 7.5}
	if s != want {
		t.Errorf("got %+v\nwant %+v", s, want)
	}
}

func TestUnreachFlags(t *testing.T) {
	for _, tc := range []struct {
		v6   bool
		code int
		want string
	}{{false, 0, "!N"}, {false, 1, "!H"}, {false, 2, "!P"}, {false, 3, ""}, {false, 13, "!X"}, {true, 1, "!X"}, {true, 3, "!H"}, {true, 4, ""}} {
		if got := unreachFlag(tc.v6, tc.code); got != tc.want {
			t.Errorf("v6=%v code %d: got %q, want %q", tc.v6, tc.code, got, tc.want)
		}
	}
}

func TestAnswersMustNameTheProbeDestination(t *testing.T) {
	dst, other := netip.MustParseAddr("10.0.0.9"), netip.MustParseAddr("10.0.0.8")
	for _, tc := range []struct {
		r    reply
		want bool
	}{
		{reply{kind: kindTimeExceeded, from: other, dst: dst}, true},
		{reply{kind: kindTimeExceeded, from: other, dst: other}, false},
		{reply{kind: kindTimeExceeded, from: other}, true}, // error queue: no quote
		{reply{kind: kindEchoReply, from: dst}, true},
		{reply{kind: kindEchoReply, from: other}, false},
		{reply{kind: kindTCP, from: other}, false},
	} {
		if got := belongs(tc.r, dst); got != tc.want {
			t.Errorf("%+v: belongs = %v, want %v", tc.r, got, tc.want)
		}
	}
}
