package roots

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/dnsscience/dnsscience/internal/dnsq"
	"github.com/dnsscience/dnsscience/internal/dnstest"
)

func TestShippedRoots(t *testing.T) {
	t.Parallel()
	all := Shipped()
	if len(all) != 13 {
		t.Fatalf("%d root servers shipped, want 13", len(all))
	}
	for i, s := range all {
		want := string(rune('a' + i))
		if s.Letter != want || s.Name != want+".root-servers.net." || s.Operator == "" || s.HQ == nil || s.IPv4 == "" || s.IPv6 == "" {
			t.Errorf("root %d = %+v; want letter %s with its operator, headquarters, IPv4 and IPv6", i, s, want)
		}
	}
	if a := all[0]; a.IPv4 != "198.41.0.4" || a.IPv6 != "2001:503:ba3e::2:30" || a.Operator != "Verisign, Inc." {
		t.Errorf("a.root-servers.net = %+v, want the root hints' addresses and Verisign", a)
	}
	if got := Targets(all, 6); len(got) != 13 || !got[12].Addr.Addr().Is6() || got[12].Letter != "m" {
		t.Errorf("Targets(v6) = %v, want 13 IPv6 addresses", got)
	}
}

// standIns starts 13 loopback servers answering NSID, hostname.bind and
// id.server as root instances would; letter b is silent.
func standIns(t *testing.T) []string {
	var entries []string
	for i := range 13 {
		letter := string(rune('a' + i))
		if letter == "b" {
			pc, err := net.ListenPacket("udp", "127.0.0.1:0") // bound, never answers
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { pc.Close() })
			entries = append(entries, "b="+pc.LocalAddr().String())
			continue
		}
		z := dnstest.NewZone(t, ".", ". 86400 IN SOA a.root-servers.net. nstld.verisign-grs.com. 1 1800 900 604800 86400\n. 518400 IN NS a.root-servers.net.\n")
		z.Hostname = fmt.Sprintf("%s1.test-site", letter)
		s := dnstest.Start(t, z)
		entries = append(entries, letter+"="+s.Addr)
	}
	return entries
}

func TestProbeStandIns(t *testing.T) {
	t.Parallel()
	entries := standIns(t)
	targets, err := ParseTargets(entries, 0)
	if err != nil {
		t.Fatal(err)
	}
	var streamed int
	res := (&Prober{Client: &dnsq.Client{Timeout: 2 * time.Second, Tries: 2}}).Run(context.Background(), targets, func(Answer) { streamed++ })
	if res.Total != 13 || res.Answered != 12 || streamed != 13 {
		t.Fatalf("answered %d of %d (streamed %d), want 12 of 13: %+v", res.Answered, res.Total, streamed, res.Answers)
	}
	for _, a := range res.Answers {
		want := a.Letter + "1.test-site"
		switch {
		case a.Letter == "b":
			if a.Error == "" || a.Instance != "" {
				t.Errorf("silent b: %+v, want an error and no instance", a)
			}
		case a.NSID != want || a.HostnameBind != want || a.IDServer != want || a.Instance != want || a.RTTMs <= 0 || a.Family != "ipv4":
			t.Errorf("answer of %s = %+v; want NSID, hostname.bind and id.server %s and an RTT", a.Letter, a, want)
		}
	}
}

func TestParseTargets(t *testing.T) {
	t.Parallel()
	got, err := ParseTargets([]string{"127.0.0.1:5301", "x=[::1]:5302", "192.0.2.1"}, 0)
	if err != nil || len(got) != 3 || got[0].Letter != "a" || got[1].Letter != "x" || got[1].Addr.String() != "[::1]:5302" || got[2].Addr.Port() != 53 {
		t.Errorf("ParseTargets = %v, %v", got, err)
	}
	if got, _ := ParseTargets([]string{"127.0.0.1", "::1"}, 6); len(got) != 1 || got[0].Letter != "b" {
		t.Errorf("ParseTargets(-6) = %v, want only ::1 as b", got)
	}
	for _, bad := range []string{"a=", "host.example", "=127.0.0.1"} {
		if _, err := ParseTargets([]string{bad}, 0); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("ParseTargets(%q) = %v, want an error naming it", bad, err)
		}
	}
}
