package cli

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// startKnot runs Debian's knotd on a free loopback port serving
// testdata/interop.zone and returns host:port.
func startKnot(t *testing.T) string {
	t.Helper()
	knotd, err := exec.LookPath("knotd")
	if err != nil {
		t.Skip("knotd not installed (Debian package knot; `make deps` installs it)")
	}
	if _, err := exec.LookPath("dig"); err != nil {
		t.Skip("dig not installed (Debian package dnsutils; `make deps` installs it)")
	}
	dir := t.TempDir()
	zone, err := os.ReadFile("testdata/interop.zone")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "example.test.zone"), zone, 0o644); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	user := ""
	if os.Geteuid() == 0 {
		user = "    user: root\n"
	}
	conf := fmt.Sprintf(`server:
    listen: 127.0.0.1@%d
    rundir: %[2]s
    identity: knot-interop
%[3]sdatabase:
    storage: %[2]s/db
zone:
  - domain: example.test
    file: %[2]s/example.test.zone
    storage: %[2]s
log:
  - target: stderr
    any: warning
`, port, dir, user)
	cfg := filepath.Join(dir, "knot.conf")
	if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(knotd, "-c", cfg)
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting knotd: %v", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		out, _ := exec.Command("dig", "@127.0.0.1", "-p", fmt.Sprint(port), "example.test", "SOA", "+short", "+time=1", "+tries=1").Output()
		if len(bytes.TrimSpace(out)) > 0 {
			return addr
		}
	}
	t.Fatalf("knotd did not answer on %s within 10s; stderr: %s", addr, stderr.String())
	return ""
}

func freePort(t *testing.T) int { return freePortOn(t, "127.0.0.1") }

// runCLI runs the dnsscience command line in-process.
func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Run(context.Background(), append([]string{"dnsscience"}, args...), strings.NewReader(""), &out, &errb)
	return out.String(), errb.String(), code
}

// TestDigInteropWithKnot asks Debian's knotd the same questions with dig and
// with dnsscience dig and requires identical short answers and identical
// answer, authority and additional sections.
func TestDigInteropWithKnot(t *testing.T) {
	addr := startKnot(t)
	host, port, _ := net.SplitHostPort(addr)
	questions := [][2]string{
		{"www.example.test", "A"}, {"www.example.test", "AAAA"}, {"alias.example.test", "A"},
		{"example.test", "MX"}, {"example.test", "NS"}, {"example.test", "SOA"}, {"example.test", "TXT"},
		{"txt2.example.test", "TXT"}, {"_sip._tcp.example.test", "SRV"}, {"example.test", "CAA"},
		{"naptr.example.test", "NAPTR"}, {"_443._tcp.www.example.test", "TLSA"}, {"www.example.test", "SSHFP"},
		{"svc.example.test", "HTTPS"}, {"_dns.example.test", "SVCB"}, {"svc2.example.test", "SVCB"},
		{"ptr.example.test", "PTR"}, {"sub.example.test", "DS"}, {"example.test", "DNSKEY"},
		{"rrsig.example.test", "RRSIG"}, {"nsec.example.test", "NSEC"}, {"n3p.example.test", "NSEC3PARAM"},
		{"missing.example.test", "A"}, {"www.example.test", "MX"}, {"www.example.test", "ANY"},
	}
	for _, q := range questions {
		t.Run(q[0]+"/"+q[1], func(t *testing.T) {
			digShort := runDigTool(t, "@"+host, "-p", port, q[0], q[1], "+short")
			got, stderr, code := runCLI(t, "dig", "@"+addr, q[0], q[1], "--short")
			if code != 0 {
				t.Fatalf("dnsscience dig exit %d: %s", code, stderr)
			}
			if got != digShort {
				t.Errorf("--short differs from dig +short\n got: %q\nwant: %q", got, digShort)
			}
			digSections := runDigTool(t, "@"+host, "-p", port, q[0], q[1], "+noall", "+answer", "+authority", "+additional")
			full, _, _ := runCLI(t, "dig", "@"+addr, q[0], q[1])
			if gotSections := recordLines(full); gotSections != digSections {
				t.Errorf("sections differ from dig\n got: %q\nwant: %q", gotSections, digSections)
			}
			digStatus := statusOf(runDigTool(t, "@"+host, "-p", port, q[0], q[1]))
			if st := statusOf(full); st != digStatus || st == "" {
				t.Errorf("status %q, dig says %q", st, digStatus)
			}
		})
	}
	t.Run("hostname.bind CH", func(t *testing.T) {
		want := runDigTool(t, "@"+host, "-p", port, "hostname.bind", "TXT", "CH", "+short")
		got, _, _ := runCLI(t, "dig", "@"+addr, "hostname.bind", "TXT", "CH", "--short")
		if got != want || !strings.Contains(got, "knot-interop") {
			t.Errorf("got %q, dig says %q (want the server identity)", got, want)
		}
	})
}

func runDigTool(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("dig", append(args, "+time=5", "+tries=2")...).Output()
	if err != nil {
		t.Fatalf("dig %v: %v", args, err)
	}
	return string(out)
}

// recordLines keeps the record lines of dig-style output (no comments, no
// blank lines), as dig +noall +answer +authority +additional prints them.
func recordLines(out string) string {
	var b strings.Builder
	for _, l := range strings.Split(out, "\n") {
		if l == "" || strings.HasPrefix(l, ";") {
			continue
		}
		b.WriteString(l + "\n")
	}
	return b.String()
}

func statusOf(out string) string {
	_, after, ok := strings.Cut(out, "status: ")
	if !ok {
		return ""
	}
	st, _, _ := strings.Cut(after, ",")
	return st
}
