package cli

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/dnsscience/dnsscience/internal/dnsq"
	"github.com/dnsscience/dnsscience/internal/dnstest"
)

const xfrSecret = "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI="

// bigZone is a zone of n A records (and the SOA and NS), large enough that
// knotd sends its transfer in several messages.
func bigZone(origin string, serial, n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "$ORIGIN %s.\n$TTL 3600\n@ SOA ns1 hostmaster %d 7200 3600 1209600 300\n@ NS ns1\nns1 A 127.0.0.1\n", origin, serial)
	for i := range n {
		fmt.Fprintf(&b, "host-%d A 10.%d.%d.%d\n", i, i>>16&255, i>>8&255, i&255)
	}
	return b.String()
}

func needDig(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("dig"); err != nil {
		t.Skip("dig not installed (Debian package dnsutils; `make deps` installs it)")
	}
}

var xfrSizeRE = regexp.MustCompile(`;; XFR size: (\d+) records \(messages (\d+), bytes (\d+)\)`)

// TestDigAXFRMatchesDig transfers a zone of 5,000 records that knotd sends
// in several messages; dig is given the same question with no transport
// option, and both must go over TCP, print the same records and the same
// "XFR size" line.
func TestDigAXFRMatchesDig(t *testing.T) {
	t.Parallel()
	needDig(t)
	k := dnstest.StartKnot(t, dnstest.Knot{Zones: map[string]string{"big.test": bigZone("big.test", 1, 5000)}})
	host, port, _ := net.SplitHostPort(k.Addr)
	want := runDigTool(t, "@"+host, "-p", port, "big.test", "AXFR")
	got, stderr, code := runCLI(t, "dig", "@"+k.Addr, "big.test", "AXFR")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if g, w := recordLines(got), recordLines(want); g != w {
		t.Errorf("records differ from dig's: %d lines, dig %d", strings.Count(g, "\n"), strings.Count(w, "\n"))
	}
	gs, ws := xfrSizeRE.FindStringSubmatch(got), xfrSizeRE.FindStringSubmatch(want)
	if gs == nil || ws == nil || gs[0] != ws[0] {
		t.Errorf("summary %q, dig's %q", gs, ws)
	}
	if gs != nil && (gs[1] != "5004" || gs[2] == "1") {
		t.Errorf("want 5,004 records in several messages, got %s records in %s", gs[1], gs[2])
	}
	if !strings.Contains(got, "(TCP)") {
		t.Errorf("transfer not reported over TCP:\n%s", got[len(got)-300:])
	}
	js, _, code := runCLI(t, "dig", "@"+k.Addr, "big.test", "AXFR", "--json")
	var doc struct {
		Records  []dnsq.Record `json:"records"`
		Messages int           `json:"messages"`
	}
	if err := json.Unmarshal([]byte(js), &doc); err != nil || code != 0 || len(doc.Records) != 5004 || fmt.Sprint(doc.Messages) != gs[2] {
		t.Errorf("JSON transfer: exit %d, %v, %d records in %d messages", code, err, len(doc.Records), doc.Messages)
	}
}

// TestDigIXFR: after knotd loads a new version of the zone, IXFR from the
// old serial gives the difference (as dig shows it), and IXFR from the
// current serial the lone SOA.
func TestDigIXFR(t *testing.T) {
	t.Parallel()
	needDig(t)
	k := dnstest.StartKnot(t, dnstest.Knot{Zones: map[string]string{"inc.test": bigZone("inc.test", 10, 50)}, Journal: true})
	v2 := strings.Replace(bigZone("inc.test", 11, 50), "host-7 A 10.0.0.7\n", "", 1) + "added A 192.0.2.99\n"
	k.Reload(t, "inc.test", v2, 11)
	host, port, _ := net.SplitHostPort(k.Addr)
	want := runDigTool(t, "@"+host, "-p", port, "inc.test", "IXFR=10")
	got, stderr, code := runCLI(t, "dig", "@"+k.Addr, "inc.test", "IXFR=10")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	records := recordLines(got)
	if records != recordLines(want) {
		t.Errorf("IXFR records\n got: %q\nwant: %q", records, recordLines(want))
	}
	if strings.Count(records, "\n") != 6 || !strings.Contains(records, "host-7.inc.test.") || !strings.Contains(records, "added.inc.test.") {
		t.Errorf("want the incremental form (SOA 11, SOA 10, deleted, SOA 11, added, SOA 11):\n%s", records)
	}
	got, _, code = runCLI(t, "dig", "@"+k.Addr, "inc.test", "IXFR=11")
	if code != 0 || strings.Count(recordLines(got), "\n") != 1 || !strings.Contains(got, "XFR size: 1 records") {
		t.Errorf("IXFR from the current serial: exit %d, want the lone SOA:\n%s", code, got)
	}
}

// TestDigTSIG: knotd allows transfers only with a TSIG key; a query and a
// transfer signed with -y or -k succeed and verify, an unsigned or
// wrongly-signed transfer fails with the server's rcode, exit 1.
func TestDigTSIG(t *testing.T) {
	t.Parallel()
	needDig(t)
	k := dnstest.StartKnot(t, dnstest.Knot{
		Zones:       map[string]string{"signed.test": bigZone("signed.test", 1, 3000)},
		Keys:        map[string]string{"xfr-key": "hmac-sha256:" + xfrSecret},
		TransferKey: "xfr-key",
	})
	keyFile := filepath.Join(t.TempDir(), "xfr.key")
	text := fmt.Sprintf("key \"xfr-key\" {\n\talgorithm hmac-sha256;\n\tsecret \"%s\";\n};\n", xfrSecret)
	if err := os.WriteFile(keyFile, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(k.Addr)
	y := "hmac-sha256:xfr-key:" + xfrSecret
	want := runDigTool(t, "@"+host, "-p", port, "signed.test", "AXFR", "-y", y)
	for _, key := range [][]string{{"-y", y}, {"-k", keyFile}} {
		got, stderr, code := runCLI(t, append([]string{"dig", "@" + k.Addr, "signed.test", "AXFR"}, key...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s %s", key, code, stderr, got)
		}
		if g, w := withoutTSIG(recordLines(got)), withoutTSIG(recordLines(want)); g != w || strings.Count(g, "\n") != 3004 {
			t.Errorf("%v: records differ from dig's (%d lines)", key, strings.Count(g, "\n"))
		}
		if n, m := strings.Count(got, "\tTSIG\thmac-sha256. "), xfrSizeRE.FindStringSubmatch(got); m == nil || fmt.Sprint(n) != m[2] {
			t.Errorf("%v: want one verified TSIG per message, %d TSIG lines, summary %q", key, n, m)
		}
	}
	out, _, code := runCLI(t, "dig", "@"+k.Addr, "signed.test", "SOA", "-y", y)
	if code != 0 || !strings.Contains(out, ";; TSIG PSEUDOSECTION:\nxfr-key.\t\t0\tANY\tTSIG\thmac-sha256. ") {
		t.Errorf("signed query: exit %d:\n%s", code, out)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "server answered NOTAUTH"},
		{[]string{"-y", "hmac-sha256:xfr-key:YmFkYmFkYmFkYmFkYmFkYmFkYmFkYmFk"}, "TSIG error BADSIG"},
		{[]string{"-y", "hmac-sha256:other-key:" + xfrSecret}, "TSIG error BADKEY"},
	} {
		out, _, code := runCLI(t, append([]string{"dig", "@" + k.Addr, "signed.test", "AXFR"}, tc.args...)...)
		if code != ExitFailure || !strings.Contains(out, "; Transfer failed: ") || !strings.Contains(out, tc.want) {
			t.Errorf("%v: exit %d, want 1 and %q:\n%s", tc.args, code, tc.want, out)
		}
	}
	out, _, code = runCLI(t, "dig", "@"+k.Addr, "signed.test", "SOA", "-y", "hmac-sha256:xfr-key:YmFkYmFkYmFkYmFkYmFkYmFkYmFkYmFk")
	if code != ExitFailure || !strings.Contains(out, "refused key xfr-key.: BADSIG") {
		t.Errorf("query with a wrong secret: exit %d:\n%s", code, out)
	}
}

// TestDigTransferRefused: a zone with no transfer ACL is refused; the rcode
// is reported and the exit status is 1, also in JSON.
func TestDigTransferRefused(t *testing.T) {
	t.Parallel()
	k := dnstest.StartKnot(t, dnstest.Knot{Zones: map[string]string{"closed.test": bigZone("closed.test", 1, 3)}, NoTransfer: true})
	out, _, code := runCLI(t, "dig", "@"+k.Addr, "closed.test", "AXFR")
	if code != ExitFailure || !strings.Contains(out, "; Transfer failed: ") || !strings.Contains(out, "server answered NOTAUTH") {
		t.Errorf("exit %d:\n%s", code, out)
	}
	out, _, code = runCLI(t, "dig", "@"+k.Addr, "closed.test", "AXFR", "--json")
	if code != ExitFailure || !strings.Contains(out, `"error": "transfer of closed.test. from `) {
		t.Errorf("JSON: exit %d:\n%s", code, out)
	}
}

func withoutTSIG(s string) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(s, "\n") {
		if !strings.Contains(l, "\tTSIG\t") {
			b.WriteString(l)
		}
	}
	return b.String()
}
