package scan_test

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dnsscience/dnsscience/internal/dnsq"
	"github.com/dnsscience/dnsscience/internal/dnssec"
	"github.com/dnsscience/dnsscience/internal/dnstest"
	"github.com/dnsscience/dnsscience/internal/scan"
)

// TestHealthSignedTree scans each domain of the signed test hierarchy
// (built once) and requires every planted fault with its code.
func TestHealthSignedTree(t *testing.T) {
	st := dnstest.StartSignedTree(t)
	anchors, err := dnssec.ParseAnchors(st.Anchor)
	if err != nil {
		t.Fatal(err)
	}
	opts := scan.Options{Roots: []dnsq.NSHost{{Name: "a.root.", Addrs: []netip.Addr{st.Root}}}, Port: st.Port, Anchors: anchors,
		Client: &dnsq.Client{Timeout: 500 * time.Millisecond, Tries: 2}}
	cases := []struct {
		domain  string
		dnssec  dnssec.Status
		verdict string
		want    []string // codes (with servers after a space, when given)
		not     []string
	}{
		{domain: "secure.test", dnssec: dnssec.Secure, verdict: "warning", want: []string{"ns_single", "ns_no_ipv6"},
			not: []string{"axfr_open", "recursion_open", "ns_lame", "spf_none", "dmarc_none", "caa_none", "mx_none", "dnssec_unsigned"}},
		{domain: "insecure.test", dnssec: dnssec.Insecure, verdict: "warning", want: []string{"dnssec_unsigned"}},
		{domain: "expired.test", dnssec: dnssec.Bogus, verdict: "error", want: []string{dnssec.CodeExpired}},
		{domain: "badds.test", dnssec: dnssec.Bogus, verdict: "error", want: []string{dnssec.CodeDSNoKey}},
		{domain: "nsec3bad.test", dnssec: dnssec.Bogus, verdict: "error", want: []string{dnssec.CodeDenialWrong}},
		{domain: "faults.test", dnssec: dnssec.Insecure, verdict: "error", want: []string{
			"glue_mismatch ns3.faults.test.",
			"ns_parent_child_differ",
			"ns_unreachable ns3.faults.test. (127.0.1.13)",
			"soa_serial_differs ns3.faults.test. (127.0.1.12)",
			"ns_lame ns4.faults.test. (127.0.1.14) answered REFUSED without AA",
			"recursion_open ns5.faults.test. (127.0.1.15)",
			"axfr_open ns1.faults.test. (127.0.1.10)",
			"ns_same_prefix",
		}, not: []string{"ns_single", "tcp_unsupported", "answer_differs"}},
		{domain: "mailbad.test", dnssec: dnssec.Insecure, verdict: "error", want: []string{
			"mx_cname mx.mailbad.test.", "mx_unresolvable gone.mailbad.test.", "spf_too_many_lookups", "dmarc_policy_none", "caa_none", "mta_sts_none", "tls_rpt_none",
		}, not: []string{"spf_include_missing", "spf_include_unresolvable"}},
		{domain: "nonexistent.test", verdict: "error", want: []string{"domain_nxdomain"}},
	}
	for _, c := range cases {
		t.Run(c.domain, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			r := scan.Health(context.Background(), c.domain, opts)
			took := time.Since(start)
			var got []string
			for _, f := range r.Findings {
				got = append(got, f.Code)
				for _, s := range f.Servers {
					got = append(got, f.Code+" "+s)
				}
			}
			for _, w := range c.want {
				if !slices.Contains(got, w) {
					t.Errorf("no finding %q; findings:\n%s", w, describe(r.Findings))
				}
			}
			for _, n := range c.not {
				if slices.Contains(got, n) {
					t.Errorf("finding %q, which was not planted; findings:\n%s", n, describe(r.Findings))
				}
			}
			if r.Verdict != c.verdict {
				t.Errorf("verdict %s, want %s; findings:\n%s", r.Verdict, c.verdict, describe(r.Findings))
			}
			if c.dnssec != "" && (r.DNSSEC == nil || r.DNSSEC.Status != c.dnssec) {
				t.Errorf("dnssec %+v, want %s", r.DNSSEC, c.dnssec)
			}
			if testing.Verbose() {
				t.Logf("%s in %s:\n%s", c.domain, took, describe(r.Findings))
			}
			if took > 10*time.Second {
				t.Errorf("the scan took %s", took)
			}
		})
	}
	t.Run("old shape", func(t *testing.T) {
		t.Parallel()
		r := scan.Health(context.Background(), "secure.test", opts)
		if !r.Success || r.Domain != "secure.test." || !slices.Equal(r.Records["A"], []string{"192.0.2.1"}) ||
			!slices.Equal(r.Records["MX"], []string{"10 mail.secure.test."}) || !slices.Equal(r.DMARC, []string{`"v=DMARC1; p=reject"`}) {
			t.Errorf("old scan fields: success %v domain %q records %v dmarc %v", r.Success, r.Domain, r.Records, r.DMARC)
		}
	})
}

func describe(fs []scan.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		b.WriteString(f.Severity + " " + f.Code + " [" + strings.Join(f.Servers, ", ") + "] " + f.Evidence + "\n")
	}
	return b.String()
}
