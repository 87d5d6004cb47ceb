package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dnsscience/dnsscience/internal/dnstest"
	"github.com/dnsscience/dnsscience/internal/roots"
)

// TestRootsCLI asks 13 loopback stand-ins given as addresses and as a
// root hints file; the stand-ins answer NSID, hostname.bind and id.server.
func TestRootsCLI(t *testing.T) {
	t.Parallel()
	var entries []string
	port := 0
	for i := range 13 {
		letter := string(rune('a' + i))
		z := dnstest.NewZone(t, ".", ". 86400 IN SOA a.root-servers.net. nstld.verisign-grs.com. 1 1800 900 604800 86400\n")
		z.Hostname = letter + "-standin"
		// One port for all: a hints file has no ports, so each letter gets
		// its own loopback address (127.0.0.10 ...) on the same port.
		ip := fmt.Sprintf("127.0.0.%d", 10+i)
		if port == 0 {
			port = dnstest.FreePort(t)
		}
		s, err := dnstest.Listen(ip, fmt.Sprint(port), z)
		if err != nil {
			t.Skipf("cannot listen on %s:%d (%v)", ip, port, err)
		}
		t.Cleanup(s.Close)
		entries = append(entries, letter+"="+s.Addr)
	}
	out, stderr, code := runCLI(t, "roots", "--roots", strings.Join(entries, ","), "-4")
	if code != 0 || !strings.Contains(out, "13 of 13 addresses answered") {
		t.Fatalf("roots: exit %d\n%s%s", code, out, stderr)
	}
	for i := range 13 {
		letter := string(rune('a' + i))
		if !strings.Contains(out, fmt.Sprintf("\n%s       ipv4    127.0.0.%d:%d", letter, 10+i, port)) || !strings.Contains(out, letter+"-standin") {
			t.Errorf("roots output lacks letter %s's row with its instance:\n%s", letter, out)
		}
	}

	_, _, code = runCLI(t, "roots", "--roots", strings.Join(entries, ","), "-6")
	if code != 2 {
		t.Errorf("roots -6 with IPv4 stand-ins only: exit %d, want 2 (nothing to ask)", code)
	}
	if _, stderr, code := runCLI(t, "roots", "--roots", "a=nohost"); code != 2 || !strings.Contains(stderr, "--roots") {
		t.Errorf("roots --roots a=nohost: exit %d %q, want 2 naming --roots", code, stderr)
	}
	var hints strings.Builder
	for i := range 13 {
		letter := strings.ToUpper(string(rune('a' + i)))
		fmt.Fprintf(&hints, ". 3600000 NS %s.ROOT-SERVERS.NET.\n%s.ROOT-SERVERS.NET. 3600000 A 127.0.0.%d\n", letter, letter, 10+i)
	}
	file := filepath.Join(t.TempDir(), "named.root")
	if err := os.WriteFile(file, []byte(hints.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	// The hints file has no port: this checks the reading (letters from
	// the names), not the answers, which would need port 53.
	got, err := rootLetterEntries(file)
	if err != nil || len(got) != 13 || got[0] != "a=127.0.0.10" || got[12] != "m=127.0.0.22" {
		t.Errorf("rootLetterEntries(hints) = %v, %v", got, err)
	}

	js, _, _ := runCLI(t, "roots", "--roots", strings.Join(entries[:2], ","), "--json")
	var res roots.Result
	if err := json.Unmarshal([]byte(js), &res); err != nil || res.Answered != 2 || res.Answers[1].NSID != "b-standin" {
		t.Errorf("roots --json = %+v, %v", res, err)
	}
}
