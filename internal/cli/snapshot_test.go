package cli

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/dnsscience/dnsscience/internal/dnstest"
	"github.com/dnsscience/dnsscience/internal/snapshot"
)

func diffZone(serial int, www, extra string) string {
	return fmt.Sprintf(`$ORIGIN diff.test.
$TTL 300
@      SOA ns1 hostmaster %d 7200 900 1209600 300
@      NS  ns1
ns1    A   127.0.0.1
www    A   %s
_dmarc TXT "v=DMARC1; p=none"
%s`, serial, www, extra)
}

// TestSnapshotDiffCLI takes a snapshot of a knotd zone into a file and the
// store, changes the zone, and diffs file, stored id and now.
func TestSnapshotDiffCLI(t *testing.T) {
	t.Parallel()
	k := dnstest.StartKnot(t, dnstest.Knot{Zones: map[string]string{"diff.test": diffZone(1, "192.0.2.1", "")}})
	dir := t.TempDir()
	db := "sqlite://" + filepath.Join(dir, "store.db")
	file := filepath.Join(dir, "before.json")

	out, stderr, code := runCLI(t, "snapshot", "diff.test", "--server", "@"+k.Addr, "-o", file, "--store", "--db", db)
	if code != 0 {
		t.Fatalf("snapshot: exit %d, %s%s", code, out, stderr)
	}
	id := regexp.MustCompile(`stored as (\S+)`).FindStringSubmatch(out)
	if id == nil || !strings.Contains(out, "snapshot of diff.test.: 5 records in 5 RRsets, serial 1, by zone transfer from "+k.Addr) {
		t.Fatalf("snapshot summary:\n%s\nwant 5 records by zone transfer and a stored id", out)
	}

	if out, _, code := runCLI(t, "diff", file, "now", "--server", k.Addr); code != 0 || !strings.HasSuffix(out, "no differences\n") {
		t.Errorf("diff before any change: exit %d\n%s\nwant 0 and no differences", code, out)
	}

	k.Reload(t, "diff.test", diffZone(2, "192.0.2.2", "api A 192.0.2.3\n"), 2)
	want := "+ api.diff.test. 300 A 192.0.2.3\n" +
		"~ www.diff.test. A\n" +
		"  - www.diff.test. 300 A 192.0.2.1\n" +
		"  + www.diff.test. 300 A 192.0.2.2\n" +
		"1 added, 0 removed, 1 changed\n"
	for _, a := range []string{file, id[1]} {
		out, stderr, code := runCLI(t, "diff", a, "now", "--server", k.Addr, "--db", db)
		lines := strings.SplitN(out, "\n", 3)
		if code != 1 || len(lines) < 3 || lines[2] != want || !strings.HasPrefix(lines[0], "--- diff.test. ") || !strings.Contains(lines[1], "(axfr, serial 2, ") {
			t.Errorf("diff %s now: exit %d\n%s%s\nwant exit 1 and\n%s", a, code, out, stderr, want)
		}
	}

	out, _, code = runCLI(t, "diff", "now", file, "--server", k.Addr, "--serial", "--json")
	var d snapshot.Diff
	if err := json.Unmarshal([]byte(out), &d); err != nil || code != 1 {
		t.Fatalf("diff --json: exit %d, %v\n%s", code, err, out)
	}
	if d.Added != 0 || d.Removed != 1 || d.Changed != 2 || d.A.Serial != 2 || d.B.Serial != 1 || !d.Options.Serial {
		t.Errorf("diff now before --serial: %+v; want api removed, SOA and www changed", d)
	}

	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"diff", "now", "now"}, 2, "only one of A and B"},
		{[]string{"diff", file, "nosuchid", "--db", db}, 2, "neither a snapshot file nor a stored snapshot"},
		{[]string{"diff", file, "missing.json"}, 2, "missing.json"},
		{[]string{"snapshot", "not a name"}, 2, "bad target"},
	} {
		_, stderr, code := runCLI(t, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.msg) {
			t.Errorf("%v: exit %d, %q; want %d and %q", tc.args, code, stderr, tc.code, tc.msg)
		}
	}
}
