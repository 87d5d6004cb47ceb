package cli

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/dnsscience/dnsscience/internal/dnssec"
	"github.com/dnsscience/dnsscience/internal/scan"
)

// writeScanReport prints a health scan as a report: the verdict first,
// then DNSSEC, the findings by severity, the chain and the servers.
func writeScanReport(w io.Writer, r *scan.Report) {
	verdict := map[string]string{scan.SevError: "ERRORS", scan.SevWarning: "WARNINGS", "ok": "OK"}[r.Verdict]
	fmt.Fprintf(w, "%s: %s — %d errors, %d warnings, %d notices (%.0f ms)\n", strings.TrimSuffix(r.Domain, "."), verdict,
		r.Counts[scan.SevError], r.Counts[scan.SevWarning], r.Counts[scan.SevNotice], r.TookMs)
	if r.DNSSEC != nil {
		d := r.DNSSEC
		line := "DNSSEC: " + string(d.Status)
		switch {
		case d.Status == dnssec.Insecure && d.InsecureAt != "":
			line += " from " + d.InsecureAt
		case d.BrokenAt != "":
			line += " at " + d.BrokenAt
		}
		if d.Reason != "" {
			line += " — " + d.Reason
		}
		fmt.Fprintln(w, line)
	}
	if len(r.Path) > 0 {
		fmt.Fprintf(w, "Delegation: %s\n", strings.Join(r.Path, " → "))
	}
	for _, sev := range []string{scan.SevError, scan.SevWarning, scan.SevNotice} {
		var fs []scan.Finding
		for _, f := range r.Findings {
			if f.Severity == sev {
				fs = append(fs, f)
			}
		}
		if len(fs) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s:\n", map[string]string{scan.SevError: "Errors", scan.SevWarning: "Warnings", scan.SevNotice: "Notices"}[sev])
		for _, f := range fs {
			fmt.Fprintf(w, "  %-28s %s\n", f.Code, f.Evidence)
			if len(f.Servers) > 0 {
				fmt.Fprintf(w, "  %-28s servers: %s\n", "", strings.Join(f.Servers, ", "))
			}
		}
	}
	if r.DNSSEC != nil && len(r.DNSSEC.Chain) > 0 {
		fmt.Fprintln(w, "\nDNSSEC chain:")
		for _, l := range r.DNSSEC.Chain {
			fmt.Fprintf(w, "  %-20s %-13s DS %s  DNSKEY %s%s\n", l.Zone, l.Status, dsTags(l.DS, l.NoDS), keyTags(l.Keys), sigNote(l.Sigs))
		}
		if !r.DNSSEC.Expires.IsZero() {
			fmt.Fprintf(w, "  first signature expiry: %s\n", r.DNSSEC.Expires.Format(time.RFC3339))
		}
	}
	if len(r.Servers) > 0 {
		fmt.Fprintln(w, "\nName servers:")
		for _, s := range r.Servers {
			fmt.Fprintf(w, "  %-14s %-28s %-16s %s\n", s.Zone, s.Name, s.Addr, serverFlags(s))
		}
	}
}

func dsTags(ds []dnssec.DSInfo, noDS string) string {
	if noDS != "" {
		return "none (" + noDS + ")"
	}
	if len(ds) == 0 {
		return "-"
	}
	var parts []string
	for _, d := range ds {
		mark := "✓"
		if !d.Matched {
			mark = "✗"
		}
		parts = append(parts, fmt.Sprintf("%d/%d%s", d.KeyTag, d.DigestType, mark))
	}
	return strings.Join(parts, ",")
}

func keyTags(keys []dnssec.KeyInfo) string {
	if len(keys) == 0 {
		return "-"
	}
	var parts []string
	for _, k := range keys {
		kind := "ZSK"
		if k.SEP {
			kind = "KSK"
		}
		parts = append(parts, fmt.Sprintf("%d %s alg %d", k.KeyTag, kind, k.Algorithm))
	}
	return strings.Join(parts, ", ")
}

func sigNote(sigs []dnssec.SigInfo) string {
	for _, s := range sigs {
		if !s.Valid && s.Problem != "" {
			return "  RRSIG ✗ " + s.Problem
		}
	}
	if len(sigs) > 0 {
		return "  RRSIG ✓"
	}
	return ""
}

func serverFlags(s scan.ServerCheck) string {
	var f []string
	add := func(ok bool, yes, no string) {
		if ok {
			f = append(f, yes)
		} else if no != "" {
			f = append(f, no)
		}
	}
	add(s.UDP, "udp", "no-udp")
	add(s.TCP, "tcp", "no-tcp")
	if s.UDP {
		add(s.EDNS, "edns", "no-edns")
		add(s.Auth, "aa", "not-auth("+s.Rcode+")")
		if s.Serial != 0 {
			f = append(f, fmt.Sprintf("serial %d", s.Serial))
		}
		f = append(f, fmt.Sprintf("%.1f ms", s.RTTMs))
	}
	add(s.Recursion, "RECURSION-OPEN", "")
	add(s.AXFR, "AXFR-OPEN", "")
	if !s.UDP && !s.TCP && s.Error != "" {
		f = append(f, s.Error)
	}
	return strings.Join(f, " ")
}
