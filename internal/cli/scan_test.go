package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dnsscience/dnsscience/internal/dnstest"
)

// TestScanCommand runs dnsscience scan against the signed loopback
// hierarchy: the report's first line is the verdict, --json carries every
// finding and dnssec.status, error findings exit 1, a bad anchor exits 2.
func TestScanCommand(t *testing.T) {
	t.Parallel()
	st := dnstest.StartSignedTree(t)
	anchor := filepath.Join(t.TempDir(), "root.ds")
	if err := os.WriteFile(anchor, []byte(st.Anchor), 0o644); err != nil {
		t.Fatal(err)
	}
	roots := fmt.Sprintf("127.0.1.1:%d", st.Port)
	base := []string{"scan", "--roots", roots, "--trust-anchor", anchor, "--no-ipv6", "--timeout", "500ms"}

	out, stderr, code := runCLI(t, append(base, "secure.test")...)
	first, _, _ := strings.Cut(out, "\n")
	if code != 0 || !strings.HasPrefix(first, "secure.test: WARNINGS — 0 errors") || !strings.Contains(out, "DNSSEC: secure") ||
		!strings.Contains(out, "secure.test.") || !strings.Contains(out, "RRSIG ✓") {
		t.Errorf("scan secure.test: exit %d, stderr %q, output:\n%s", code, stderr, out)
	}

	out, stderr, code = runCLI(t, append(base, "--json", "faults.test")...)
	var rep struct {
		Verdict  string `json:"verdict"`
		Findings []struct {
			Code, Severity, Evidence string
			Servers                  []string
		} `json:"findings"`
		DNSSEC struct {
			Status string `json:"status"`
		} `json:"dnssec"`
		Records map[string][]string `json:"records"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("--json: %v; stderr %q; output:\n%s", err, stderr, out)
	}
	codes := map[string]bool{}
	for _, f := range rep.Findings {
		codes[f.Code] = f.Severity != "" && f.Evidence != ""
	}
	for _, c := range []string{"glue_mismatch", "ns_lame", "soa_serial_differs", "axfr_open", "recursion_open", "ns_unreachable"} {
		if !codes[c] {
			t.Errorf("--json has no finding %s (with severity and evidence): %+v", c, rep.Findings)
		}
	}
	if code != 1 || rep.Verdict != "error" || rep.DNSSEC.Status != "insecure" || len(rep.Records["A"]) != 1 {
		t.Errorf("faults.test: exit %d, verdict %q, dnssec %q, records %v; want 1, error, insecure, one A", code, rep.Verdict, rep.DNSSEC.Status, rep.Records)
	}

	out, _, code = runCLI(t, append(base, "expired.test")...)
	if first, _, _ := strings.Cut(out, "\n"); code != 1 || !strings.HasPrefix(first, "expired.test: ERRORS") || !strings.Contains(out, "DNSSEC: bogus at expired.test.") || !strings.Contains(out, "dnssec_signature_expired") {
		t.Errorf("scan expired.test: exit %d, output:\n%s", code, out)
	}

	bad := filepath.Join(t.TempDir(), "bad.ds")
	if err := os.WriteFile(bad, []byte("x. A 192.0.2.1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := runCLI(t, "scan", "--roots", roots, "--trust-anchor", bad, "secure.test"); code != 2 || !strings.Contains(stderr, "--trust-anchor") || !strings.Contains(stderr, "give DS or DNSKEY records") {
		t.Errorf("a bad trust anchor: exit %d, stderr %q; want 2 naming --trust-anchor", code, stderr)
	}
	if _, stderr, code := runCLI(t, "scan", "internal.test"); code != 2 || !strings.Contains(stderr, "internal name") {
		t.Errorf("an internal name without --roots: exit %d, stderr %q; want 2", code, stderr)
	}
}
