package dnstest

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// Knot describes a Debian knotd to run for a test: its zones and, for zone
// transfers, TSIG keys and who may transfer.
type Knot struct {
	// Zones maps an origin ("example.test") to its zone file text.
	Zones map[string]string
	// Keys maps a TSIG key name to "algorithm:base64-secret"
	// ("hmac-sha256:c2VjcmV0").
	Keys map[string]string
	// TransferKey, when set, names the key a transfer must be signed with;
	// empty allows unsigned transfers from loopback. NoTransfer refuses
	// every transfer.
	TransferKey string
	NoTransfer  bool
	// Identity is what knotd answers to hostname.bind and id.server.
	Identity string
	// IP and Port are where knotd listens; empty and 0 mean 127.0.0.1 and
	// a free port (a delegation tree puts one knotd per zone on one port).
	IP   string
	Port int
	// Sign has knotd sign every zone (DNSSEC, its default policy: ECDSA
	// P-256 keys made at load).
	Sign bool
	// NSEC3 signs with NSEC3 (no opt-out, no extra iterations) instead
	// of NSEC, with a salt of NSEC3Salt bytes (none by default).
	NSEC3     bool
	NSEC3Salt int
	// Module is a knotd module loaded for every zone (mod-whoami answers
	// the apex's A/AAAA with the asker's address).
	Module string
	// Journal keeps the differences between zone file versions (loaded
	// with Reload), so that knotd answers IXFR incrementally.
	Journal bool
}

// KnotServer is a running knotd.
type KnotServer struct {
	Addr string // 127.0.0.1:port, UDP and TCP
	Dir  string // rundir, zone files and knot.conf
	Conf string // path of knot.conf
}

// StartKnot runs knotd on a free loopback port with cfg and stops it when
// the test ends. It skips the test when knotd is not installed.
func StartKnot(t testing.TB, cfg Knot) *KnotServer {
	t.Helper()
	if _, err := exec.LookPath("knotd"); err != nil {
		t.Skip("knotd not installed (Debian package knot, in deps/apt/dns.list; `make deps` installs it)")
	}
	s, err := LaunchKnot(t, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// LaunchKnot is StartKnot returning its failure instead of ending the
// test, so that several knotd can start at once from goroutines (cfg.Port
// must be set then).
func LaunchKnot(t testing.TB, cfg Knot) (*KnotServer, error) {
	knotd, err := exec.LookPath("knotd")
	if err != nil {
		return nil, fmt.Errorf("knotd not installed: %w", err)
	}
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "db"), 0o755); err != nil { // the journal lives here
		return nil, err
	}
	port, ip := cfg.Port, cfg.IP
	if port == 0 {
		port = FreePort(t)
	}
	if ip == "" {
		ip = "127.0.0.1"
	}
	conf := filepath.Join(dir, "knot.conf")
	text, err := cfg.conf(dir, ip, port)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		return nil, err
	}
	var stderr bytes.Buffer
	cmd := exec.Command(knotd, "-c", conf)
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting knotd: %w", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-done })
	s := &KnotServer{Addr: net.JoinHostPort(ip, fmt.Sprint(port)), Dir: dir, Conf: conf}
	if !s.waitReady(cfg, done) {
		return nil, fmt.Errorf("knotd did not answer on %s within 15s; stderr: %s", s.Addr, stderr.String())
	}
	return s, nil
}

// waitReady asks for every zone's SOA until all are served.
func (s *KnotServer) waitReady(cfg Knot, exited <-chan struct{}) bool {
	c := &dns.Client{Timeout: 200 * time.Millisecond}
	deadline := time.Now().Add(15 * time.Second)
	for origin := range cfg.Zones {
		m := new(dns.Msg)
		m.SetQuestion(dns.Fqdn(origin), dns.TypeSOA)
		m.SetEdns0(1232, cfg.Sign)
		for {
			select {
			case <-exited:
				return false
			default:
			}
			r, _, err := c.Exchange(m, s.Addr)
			if err == nil && r.Rcode == dns.RcodeSuccess && len(r.Answer) > 0 && (!cfg.Sign || len(r.Answer) > 1) {
				break
			}
			if time.Now().After(deadline) {
				return false
			}
			time.Sleep(20 * time.Millisecond) // poll interval while knotd loads

		}
	}
	return true
}

func (cfg Knot) conf(dir, ip string, port int) (string, error) {
	var b strings.Builder
	identity := cfg.Identity
	if identity == "" {
		identity = "knot-test"
	}
	fmt.Fprintf(&b, "server:\n    listen: %s@%d\n    rundir: %s\n    identity: %s\n", ip, port, dir, identity)
	if os.Geteuid() == 0 {
		b.WriteString("    user: root\n")
	}
	fmt.Fprintf(&b, "database:\n    storage: %s/db\nlog:\n  - target: stderr\n    any: warning\n", dir)
	if len(cfg.Keys) > 0 {
		b.WriteString("key:\n")
		for name, spec := range cfg.Keys {
			alg, secret, _ := strings.Cut(spec, ":")
			fmt.Fprintf(&b, "  - id: %s\n    algorithm: %s\n    secret: %s\n", name, alg, secret)
		}
	}
	b.WriteString("acl:\n  - id: xfr\n    address: 127.0.0.0/8\n    action: transfer\n")
	if cfg.TransferKey != "" {
		fmt.Fprintf(&b, "    key: %s\n", cfg.TransferKey)
	}
	if cfg.NSEC3 {
		fmt.Fprintf(&b, "policy:\n  - id: nsec3\n    nsec3: on\n    nsec3-iterations: 0\n    nsec3-salt-length: %d\n", cfg.NSEC3Salt)
	}
	b.WriteString("zone:\n")
	for origin, text := range cfg.Zones {
		file := filepath.Join(dir, strings.TrimSuffix(origin, ".")+".zone")
		if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "  - domain: %s\n    file: %s\n    storage: %s\n    semantic-checks: off\n", origin, file, dir)
		if !cfg.NoTransfer {
			b.WriteString("    acl: [xfr]\n")
		}
		if cfg.Sign {
			b.WriteString("    dnssec-signing: on\n")
			if cfg.NSEC3 {
				b.WriteString("    dnssec-policy: nsec3\n")
			}
		}
		if cfg.Module != "" {
			fmt.Fprintf(&b, "    module: %s\n", cfg.Module)
		}
		if cfg.Journal {
			b.WriteString("    zonefile-load: difference\n    journal-content: changes\n")
		}
	}
	return b.String(), nil
}

// Reload replaces origin's zone file with text and has knotd load it
// (knotc zone-reload), then waits until knotd serves the SOA serial given.
func (s *KnotServer) Reload(t testing.TB, origin, text string, serial uint32) {
	t.Helper()
	file := filepath.Join(s.Dir, strings.TrimSuffix(origin, ".")+".zone")
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("knotc", "-c", s.Conf, "-f", "zone-reload", origin).CombinedOutput(); err != nil {
		t.Fatalf("knotc zone-reload %s: %v: %s", origin, err, out)
	}
	c := &dns.Client{Timeout: 200 * time.Millisecond}
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(origin), dns.TypeSOA)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		r, _, err := c.Exchange(m, s.Addr)
		if err == nil && len(r.Answer) > 0 {
			if soa, ok := r.Answer[0].(*dns.SOA); ok && soa.Serial == serial {
				return
			}
		}
	}
	t.Fatalf("knotd did not serve serial %d of %s within 10s", serial, origin)
}

// FreePort returns a loopback port free for both UDP and TCP.
func FreePort(t testing.TB) int {
	t.Helper()
	for range 20 {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := pc.LocalAddr().(*net.UDPAddr).Port
		pc.Close()
		if l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			l.Close()
			return port
		}
	}
	t.Fatal("no free port")
	return 0
}

// ZoneRead is the zone as knotd serves it (signed, when it signs), in
// zone-file syntax (knotc zone-read).
func (s *KnotServer) ZoneRead(origin string) (string, error) {
	out, err := exec.Command("knotc", "-c", s.Conf, "zone-read", dns.Fqdn(origin)).Output()
	if err != nil {
		return "", fmt.Errorf("knotc zone-read %s: %w", origin, err)
	}
	var b strings.Builder
	for _, line := range strings.Split(string(out), "\n") {
		if _, rest, ok := strings.Cut(line, "] "); ok && strings.HasPrefix(line, "[") {
			b.WriteString(rest + "\n")
		}
	}
	return b.String(), nil
}

// DS is the DS records of the zone's key-signing keys, as keymgr gives
// them (zone-file syntax, one a line).
func (s *KnotServer) DS(origin string) (string, error) {
	out, err := exec.Command("keymgr", "-c", s.Conf, dns.Fqdn(origin), "ds").Output()
	if err != nil {
		return "", fmt.Errorf("keymgr %s ds: %w", origin, err)
	}
	return string(out), nil
}
