package dnssec_test

import (
	"context"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/dnsscience/dnsscience/internal/dnsq"
	"github.com/dnsscience/dnsscience/internal/dnssec"
	"github.com/dnsscience/dnsscience/internal/dnstest"
)

// TestValidateSignedTree validates each case of the signed test hierarchy
// (built once) and compares every verdict with delv's, given the same
// trust anchor and records.
func TestValidateSignedTree(t *testing.T) {
	st := dnstest.StartSignedTree(t)
	anchors, err := dnssec.ParseAnchors(st.Anchor)
	if err != nil {
		t.Fatalf("keymgr's root DS: %v\n%s", err, st.Anchor)
	}
	v := &dnssec.Validator{
		Tracer: &dnsq.Tracer{Roots: []dnsq.NSHost{{Name: "a.root.", Addrs: []netip.Addr{st.Root}}}, Port: st.Port,
			Client: &dnsq.Client{Timeout: time.Second, Tries: 2}},
		Anchors: anchors,
	}
	anchorFile := filepath.Join(t.TempDir(), "anchors.conf")
	if err := os.WriteFile(anchorFile, []byte(st.DelvAnchors()), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, probe string
		qtype       uint16
		status      dnssec.Status
		code, at    string
	}{
		{name: "secure.test", qtype: dns.TypeSOA, status: dnssec.Secure},
		{name: "www.secure.test", qtype: dns.TypeA, status: dnssec.Secure},
		{name: "nx.secure.test", qtype: dns.TypeA, status: dnssec.Secure},
		{name: "secure.test", qtype: dns.TypeSOA, probe: "nx.secure.test", status: dnssec.Secure},
		{name: "insecure.test", qtype: dns.TypeSOA, status: dnssec.Insecure, at: "insecure.test."},
		{name: "www.insecure.test", qtype: dns.TypeA, status: dnssec.Insecure, at: "insecure.test."},
		{name: "expired.test", qtype: dns.TypeSOA, status: dnssec.Bogus, code: dnssec.CodeExpired, at: "expired.test."},
		{name: "badds.test", qtype: dns.TypeSOA, status: dnssec.Bogus, code: dnssec.CodeDSNoKey, at: "badds.test."},
		{name: "nsec3bad.test", qtype: dns.TypeSOA, status: dnssec.Secure},
		{name: dnstest.NSEC3Hole, qtype: dns.TypeA, status: dnssec.Bogus, code: dnssec.CodeDenialWrong, at: "nsec3bad.test."},
		{name: "nsec3bad.test", qtype: dns.TypeSOA, probe: dnstest.NSEC3Hole, status: dnssec.Bogus, code: dnssec.CodeDenialWrong, at: "nsec3bad.test."},
	}
	for _, c := range cases {
		t.Run(c.name+"/"+dnsq.TypeString(c.qtype)+"/"+c.probe, func(t *testing.T) {
			t.Parallel()
			res := v.Validate(context.Background(), dnssec.Request{Name: c.name, Type: c.qtype, Probe: c.probe})
			where := res.BrokenAt + res.InsecureAt
			if res.Status != c.status || res.Code != c.code && c.code != "" || where != c.at {
				t.Errorf("got %s (%s) at %q: %s; want %s (%s) at %q", res.Status, res.Code, where, res.Reason, c.status, c.code, c.at)
			}
			if res.Status == dnssec.Secure && (len(res.Chain) != 3 || res.Expires.Before(time.Now())) {
				t.Errorf("a secure chain of %d links, expiring %s; want root → test → domain, in the future", len(res.Chain), res.Expires)
			}
			qname := c.name
			if c.probe != "" {
				qname = c.probe
			}
			qt := c.qtype
			if c.probe != "" {
				qt = dns.TypeA
			}
			if got := delv(t, st, anchorFile, qname, qt); got != "" && got != c.status && !(c.probe != "" && c.status == dnssec.Secure) {
				t.Errorf("delv says %s for %s %s; dnsscience says %s", got, qname, dnsq.TypeString(qt), c.status)
			}
		})
	}
	t.Run("no anchor on the path", func(t *testing.T) {
		t.Parallel()
		other, _ := dnssec.ParseAnchors("example. DS 1 13 2 0000000000000000000000000000000000000000000000000000000000000000")
		w := *v
		w.Anchors = other
		if res := w.Validate(context.Background(), dnssec.Request{Name: "secure.test", Type: dns.TypeSOA}); res.Status != dnssec.Indeterminate || res.Code != dnssec.CodeNoAnchor {
			t.Errorf("got %s (%s): %s; want indeterminate (%s)", res.Status, res.Code, res.Reason, dnssec.CodeNoAnchor)
		}
	})
	t.Run("expiry horizon", func(t *testing.T) {
		t.Parallel()
		first := v.Validate(context.Background(), dnssec.Request{Name: "secure.test", Type: dns.TypeSOA})
		w := *v
		w.Now = func() time.Time { return first.Expires.Add(-24 * time.Hour) }
		res := w.Validate(context.Background(), dnssec.Request{Name: "secure.test", Type: dns.TypeSOA})
		var warned bool
		for _, a := range res.Advice {
			warned = warned || a.Code == dnssec.AdviceExpirySoon
		}
		if res.Status != dnssec.Secure || !warned {
			t.Errorf("a day before the first signature expires: %s, advice %+v; want secure with %s", res.Status, res.Advice, dnssec.AdviceExpirySoon)
		}
		for _, a := range first.Advice {
			if a.Code == dnssec.AdviceExpirySoon {
				t.Errorf("advice %+v with two weeks left", a)
			}
		}
	})
	t.Run("clock past every signature", func(t *testing.T) {
		t.Parallel()
		w := *v
		w.Now = func() time.Time { return time.Now().Add(400 * 24 * time.Hour) }
		if res := w.Validate(context.Background(), dnssec.Request{Name: "secure.test", Type: dns.TypeSOA}); res.Status != dnssec.Bogus || res.Code != dnssec.CodeExpired || res.BrokenAt != "." {
			t.Errorf("got %s (%s) at %q: %s; want bogus (%s) at the root", res.Status, res.Code, res.BrokenAt, res.Reason, dnssec.CodeExpired)
		}
	})
}

// delv asks BIND's validator (with the tree's root anchor, through the
// knotd serving every zone) and maps its verdict; "" when delv is not
// installed.
func delv(t *testing.T, st *dnstest.SignedTree, anchorFile, name string, qtype uint16) dnssec.Status {
	t.Helper()
	if _, err := exec.LookPath("delv"); err != nil {
		t.Log("delv not installed (Debian package bind9-dnsutils, in deps/apt/dns.list): no comparison")
		return ""
	}
	host, port, _ := strings.Cut(st.Combined, ":")
	out, _ := exec.Command("delv", "-a", anchorFile, "+root=.", "-p", port, "@"+host, name, dnsq.TypeString(qtype), "+nomtrace", "+novtrace").CombinedOutput()
	text := string(out)
	switch {
	case strings.Contains(text, "fully validated"):
		return dnssec.Secure
	case strings.Contains(text, "unsigned answer"):
		return dnssec.Insecure
	case strings.Contains(text, "resolution failed"), strings.Contains(text, "validation failed"):
		return dnssec.Bogus
	}
	t.Fatalf("delv's verdict on %s %s not understood:\n%s", name, strconv.Quote(dnsq.TypeString(qtype)), text)
	return ""
}
