package netpolicy

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func TestDefaultCheck(t *testing.T) {
	p := Default()
	tests := []struct {
		addr string
		rule string // "" means allowed
	}{
		{"8.8.8.8", ""},
		{"1.1.1.1", ""},
		{"2606:4700::1111", ""},
		{"10.1.2.3", "private"},
		{"172.16.0.1", "private"},
		{"172.31.255.255", "private"},
		{"172.32.0.1", ""},
		{"192.168.1.1", "private"},
		{"127.0.0.1", "loopback"},
		{"127.8.9.10", "loopback"},
		{"::1", "loopback"},
		{"::", "unspecified"},
		{"::7f00:1", "ipv4-compatible"},
		{"::a00:1", "ipv4-compatible"},
		{"::808:808", "ipv4-compatible"},
		{"169.254.1.1", "link-local"},
		{"fe80::1", "link-local"},
		{"100.64.0.1", "cgnat"},
		{"100.127.255.254", "cgnat"},
		{"192.0.2.10", "documentation"},
		{"198.51.100.7", "documentation"},
		{"203.0.113.10", "documentation"},
		{"2001:db8::1", "documentation"},
		{"198.18.0.1", "benchmarking"},
		{"224.0.0.1", "multicast"},
		{"ff02::1", "multicast"},
		{"240.0.0.1", "reserved"},
		{"255.255.255.255", "reserved"},
		{"0.0.0.0", "this-network"},
		{"::", "unspecified"},
		{"169.254.169.254", "cloud-metadata"},
		{"fd00:ec2::254", "cloud-metadata"},
		{"100.100.100.200", "cloud-metadata"},
		{"::ffff:127.0.0.1", "loopback"},
		{"::ffff:8.8.8.8", ""},
		{"64:ff9b::7f00:1", "nat64"},
		{"2002:7f00:1::1", "6to4"},
		{"2001:0:4136:e378:8000:63bf:3fff:fdd2", "teredo"},
		{"fc00::1", "private"},
		{"fd12:3456::1", "private"},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			err := p.Check(netip.MustParseAddr(tt.addr))
			if tt.rule == "" {
				if err != nil {
					t.Fatalf("got %v, want allowed", err)
				}
				return
			}
			if !errors.Is(err, ErrDenied) {
				t.Fatalf("got %v, want ErrDenied", err)
			}
			if !strings.Contains(err.Error(), tt.addr) || !strings.Contains(err.Error(), "("+tt.rule+")") {
				t.Fatalf("got %q, want the address and rule %q named", err, tt.rule)
			}
		})
	}
}

func TestAllowMostSpecificWins(t *testing.T) {
	p := Default().Allow(netip.MustParsePrefix("169.254.0.0/16"), netip.MustParsePrefix("127.0.0.1/32"))
	if err := p.Check(netip.MustParseAddr("169.254.1.1")); err != nil {
		t.Errorf("169.254.1.1: got %v, want allowed by 169.254.0.0/16", err)
	}
	if err := p.Check(netip.MustParseAddr("169.254.169.254")); !errors.Is(err, ErrDenied) {
		t.Errorf("metadata: got %v, want still denied by the more specific /32", err)
	}
	if err := p.Check(netip.MustParseAddr("127.0.0.1")); err != nil {
		t.Errorf("127.0.0.1: got %v, want allowed", err)
	}
	if err := p.Check(netip.MustParseAddr("127.0.0.2")); !errors.Is(err, ErrDenied) {
		t.Errorf("127.0.0.2: got %v, want denied", err)
	}
	if err := Default().Check(netip.MustParseAddr("127.0.0.1")); !errors.Is(err, ErrDenied) {
		t.Errorf("Allow changed the original policy: got %v", err)
	}
	meta := p.Allow(netip.MustParsePrefix("169.254.169.254/32"))
	if err := meta.Check(netip.MustParseAddr("169.254.169.254")); err != nil {
		t.Errorf("explicit /32: got %v, want allowed", err)
	}
}

func TestAllowAllAndNil(t *testing.T) {
	for name, p := range map[string]*Policy{"AllowAll": AllowAll(), "nil": nil} {
		for _, a := range []string{"127.0.0.1", "169.254.169.254", "::1", "8.8.8.8"} {
			if err := p.Check(netip.MustParseAddr(a)); err != nil {
				t.Errorf("%s %s: got %v, want allowed", name, a, err)
			}
		}
		if err := p.CheckAddrPort("/run/x.sock"); err != nil {
			t.Errorf("%s unix path: got %v, want allowed", name, err)
		}
	}
}

func TestDenyCustom(t *testing.T) {
	p := AllowAll().Deny("blocked", netip.MustParsePrefix("198.51.100.0/24"))
	err := p.Check(netip.MustParseAddr("198.51.100.9"))
	if !errors.Is(err, ErrDenied) || !strings.Contains(err.Error(), "(blocked)") {
		t.Fatalf("got %v, want denied by rule blocked", err)
	}
	if err := p.Check(netip.MustParseAddr("127.0.0.1")); err != nil {
		t.Fatalf("got %v, want allowed", err)
	}
}

func TestCheckAddrPortNotIP(t *testing.T) {
	err := Default().CheckAddrPort("/run/x.sock")
	if !errors.Is(err, ErrDenied) {
		t.Fatalf("got %v, want ErrDenied for a non-IP address", err)
	}
}
