package dnstest

import (
	"crypto"
	"errors"
	"fmt"
	"net/netip"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// SignedTree is a signed delegation hierarchy on loopback, every zone
// served by its own knotd on one port at 127.0.1.x:
//
//	.              127.0.1.1  signed by knotd
//	test.          127.0.1.2  signed by knotd (NSEC)
//	secure.test.   127.0.1.3  signed, DS from keymgr: secure
//	insecure.test. 127.0.1.4  unsigned, no DS (NSEC proves it): insecure
//	expired.test.  127.0.1.5  signed with signatures that expired a day ago: bogus
//	badds.test.    127.0.1.6  signed, the parent's DS matches no key: bogus
//	nsec3bad.test. 127.0.1.7  signed with NSEC3, then the NSEC3 covering
//	                          NSEC3Hole removed: a wrong denial, bogus
//	mailbad.test.  127.0.1.9  unsigned, with mail faults: an MX that is a
//	                          CNAME, one without address, an SPF record of
//	                          11 lookups, DMARC p=none, no CAA
//	faults.test.   127.0.1.10–15, unsigned, with delegation faults: see
//	               FaultServers
//
// All (signed) zones are also served together by one knotd at 127.0.1.30
// (Combined), from which delv, a validator that needs one server that
// answers everything, takes its records.
type SignedTree struct {
	Port     int
	Root     netip.Addr
	Anchor   string // the root's DS records (keymgr), zone-file syntax
	Combined string // ip:port of the knotd serving every zone
}

// The fault domain's servers: ns1 (.10) allows zone transfers to anyone,
// ns2 (.11) is fine, ns3 has glue .12 at the parent but .13 in the zone and
// its server (.12) has a newer serial, ns4 (.14) serves another zone only
// (lame), ns5 (.15) is Knot Resolver (recursion open to anyone); the zone
// lists a sixth server the parent does not.
// NSEC3Hole is the name (the scan's denial probe) whose NSEC3 proof is
// missing from nsec3bad.test.
const NSEC3Hole = "_dnsscience-nx.nsec3bad.test."

const (
	FaultAXFR      = "127.0.1.10"
	FaultSerial    = "127.0.1.12"
	FaultLame      = "127.0.1.14"
	FaultRecursion = "127.0.1.15"
)

const soaText = "@ 3600 SOA ns1 hostmaster %d 7200 3600 1209600 300\n"

// StartSignedTree builds the hierarchy, the servers of each level at
// once; it skips the test when knotd, keymgr or kresd is not installed.
func StartSignedTree(t testing.TB) *SignedTree {
	t.Helper()
	return StartSignedTreeOn(t, 0)
}

// StartSignedTreeOn is StartSignedTree on the given port (0: a free one);
// tools that only ask port 53 (zonemaster-cli, dnsviz) need port 53.
func StartSignedTreeOn(t testing.TB, port int) *SignedTree {
	t.Helper()
	for _, tool := range []string{"knotd", "keymgr", "knotc", "kresd"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (Debian packages knot and knot-resolver, in deps/apt/dns.list; `make deps` installs them)", tool)
		}
	}
	if port == 0 {
		port = FreePort(t)
	}
	st := &SignedTree{Port: port, Root: netip.MustParseAddr("127.0.1.1")}
	b := &treeBuild{t: t, port: port, combined: map[string]string{}, ds: map[string]string{}}
	mail := "@ MX 10 mail\nmail A 192.0.2.2\n@ TXT \"v=spf1 ip4:192.0.2.0/24 -all\"\n_dmarc TXT \"v=DMARC1; p=reject\"\n@ CAA 0 issue \"ca.test\"\n"
	expiredZone, expiredDS := signExpired(t, "expired.test.", leaf("expired.test", "127.0.1.5", ""))
	b.ds["expired.test"] = expiredDS
	b.serve("127.0.1.3", "secure.test", leaf("secure.test", "127.0.1.3", mail), signed)
	b.serve("127.0.1.4", "insecure.test", leaf("insecure.test", "127.0.1.4", mail), plain)
	b.serve("127.0.1.5", "expired.test", expiredZone, plain)
	b.serve("127.0.1.6", "badds.test", leaf("badds.test", "127.0.1.6", ""), signed)
	// knotd signs nsec3bad.test with NSEC3 at .8; .7 serves that signed
	// zone without the NSEC3 record a denial needs.
	b.run(func() error {
		signer, err := LaunchKnot(t, Knot{IP: "127.0.1.8", Port: port, Sign: true, NSEC3: true, NoTransfer: true,
			Zones: map[string]string{"nsec3bad.test": leaf("nsec3bad.test", "127.0.1.7", "")}})
		if err != nil {
			return err
		}
		text, err := signer.ZoneRead("nsec3bad.test")
		if err != nil {
			return err
		}
		ds, err := signer.DS("nsec3bad.test")
		if err != nil {
			return err
		}
		text = dropNSEC3(text, NSEC3Hole)
		b.note("nsec3bad.test", text, ds)
		_, err = LaunchKnot(t, Knot{IP: "127.0.1.7", Port: port, NoTransfer: true, Zones: map[string]string{"nsec3bad.test": text}})
		return err
	})
	b.startFaults()
	spf := "@ TXT \"v=spf1"
	for i := range 11 {
		spf += fmt.Sprintf(" include:s%d.mailbad.test", i)
	}
	spf += " -all\"\n"
	for i := range 11 {
		spf += fmt.Sprintf("s%d TXT \"v=spf1 ip4:192.0.2.%d -all\"\n", i, i)
	}
	b.serve("127.0.1.9", "mailbad.test", leaf("mailbad.test", "127.0.1.9",
		"@ MX 10 mx\n@ MX 20 gone\nmx CNAME host\nhost A 192.0.2.25\n_dmarc TXT \"v=DMARC1; p=none\"\n"+spf), plain)
	b.wait()
	bad, err := corruptDS(b.ds["badds.test"])
	if err != nil {
		t.Fatal(err)
	}
	tld := zone("test", "@ NS ns1\nns1 A 127.0.1.2\n"+
		"secure NS ns1.secure\nns1.secure A 127.0.1.3\n"+b.ds["secure.test"]+
		"insecure NS ns1.insecure\nns1.insecure A 127.0.1.4\n"+
		"expired NS ns1.expired\nns1.expired A 127.0.1.5\n"+b.ds["expired.test"]+
		"badds NS ns1.badds\nns1.badds A 127.0.1.6\n"+bad+
		"nsec3bad NS ns1.nsec3bad\nns1.nsec3bad A 127.0.1.7\n"+b.ds["nsec3bad.test"]+
		"mailbad NS ns1.mailbad\nns1.mailbad A 127.0.1.9\n"+
		"faults NS ns1.faults\nfaults NS ns2.faults\nfaults NS ns3.faults\nfaults NS ns4.faults\nfaults NS ns5.faults\n"+
		"ns1.faults A 127.0.1.10\nns2.faults A 127.0.1.11\nns3.faults A 127.0.1.12\nns4.faults A 127.0.1.14\nns5.faults A 127.0.1.15\n")
	b.serve("127.0.1.2", "test", tld, signed)
	b.wait()
	root := "$ORIGIN .\n$TTL 3600\n. SOA a.root. hostmaster.root. 1 7200 3600 1209600 300\n. NS a.root.\na.root. A 127.0.1.1\n" +
		"test. NS ns1.test.\nns1.test. A 127.0.1.2\n" + b.ds["test"]
	b.serve("127.0.1.1", ".", root, signed)
	b.wait()
	st.Anchor = b.ds["."]
	StartKresd(t, FaultRecursion, port, fmt.Sprintf("127.0.1.1@%d", port)) // through the root, now served
	all, err := LaunchKnot(t, Knot{IP: "127.0.1.30", Port: port, NoTransfer: true, Zones: b.combined})
	if err != nil {
		t.Fatal(err)
	}
	st.Combined = all.Addr
	return st
}

func zone(origin, body string) string {
	return "$ORIGIN " + dns.Fqdn(origin) + "\n$TTL 3600\n" + fmt.Sprintf(soaText, 1) + body
}

func leaf(name, ip, extra string) string {
	return zone(name, "@ NS ns1\nns1 A "+ip+"\n@ A 192.0.2.1\nwww A 192.0.2.1\n"+extra)
}

const (
	plain  = false
	signed = true
)

// treeBuild starts the servers of one level at once.
type treeBuild struct {
	t        testing.TB
	port     int
	wg       sync.WaitGroup
	mu       sync.Mutex
	errs     []error
	combined map[string]string // origin → zone text as served, for the combined server
	ds       map[string]string // origin → its DS records
}

func (b *treeBuild) run(f func() error) {
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		if err := f(); err != nil {
			b.mu.Lock()
			b.errs = append(b.errs, err)
			b.mu.Unlock()
		}
	}()
}

func (b *treeBuild) wait() {
	b.t.Helper()
	b.wg.Wait()
	if err := errors.Join(b.errs...); err != nil {
		b.t.Fatal(err)
	}
}

func (b *treeBuild) note(origin, text, ds string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.combined[origin] = text
	if ds != "" {
		b.ds[origin] = ds
	}
}

// serve runs knotd for one zone (signing it, or not) and notes the zone
// as served and, signed, its DS.
func (b *treeBuild) serve(ip, origin, text string, sign bool) {
	b.run(func() error {
		s, err := LaunchKnot(b.t, Knot{IP: ip, Port: b.port, Sign: sign, NoTransfer: true, Zones: map[string]string{origin: text}})
		if err != nil || !sign {
			b.note(origin, text, "")
			return err
		}
		if text, err = s.ZoneRead(origin); err != nil {
			return err
		}
		ds, err := s.DS(origin)
		b.note(origin, text, ds)
		return err
	})
}

// DelvAnchors is the anchor in BIND's trust-anchors syntax, for delv -a.
func (st *SignedTree) DelvAnchors() string {
	var b strings.Builder
	b.WriteString("trust-anchors {\n")
	for _, line := range strings.Split(st.Anchor, "\n") {
		rr, err := dns.NewRR(line)
		if err != nil || rr == nil {
			continue
		}
		if ds, ok := rr.(*dns.DS); ok {
			fmt.Fprintf(&b, "  %q static-ds %d %d %d %q;\n", ds.Hdr.Name, ds.KeyTag, ds.Algorithm, ds.DigestType, ds.Digest)
		}
	}
	b.WriteString("};\n")
	return b.String()
}

func (b *treeBuild) startFaults() {
	child := func(serial int) string {
		return "$ORIGIN faults.test.\n$TTL 3600\n" + fmt.Sprintf(soaText, serial) +
			"@ NS ns1\n@ NS ns2\n@ NS ns3\n@ NS ns4\n@ NS ns5\n@ NS ns6\n" +
			"ns1 A 127.0.1.10\nns2 A 127.0.1.11\nns3 A 127.0.1.13\nns4 A 127.0.1.14\nns5 A 127.0.1.15\nns6 A 127.0.1.10\n" +
			"@ A 192.0.2.3\n"
	}
	for _, k := range []Knot{
		{IP: FaultAXFR, Zones: map[string]string{"faults.test": child(1)}},
		{IP: "127.0.1.11", NoTransfer: true, Zones: map[string]string{"faults.test": child(1)}},
		{IP: FaultSerial, NoTransfer: true, Zones: map[string]string{"faults.test": child(2)}},
		{IP: FaultLame, NoTransfer: true, Zones: map[string]string{"elsewhere.test": zone("elsewhere.test", "@ NS ns1\nns1 A 127.0.1.14\n")}},
	} {
		k.Port = b.port
		b.run(func() error { _, err := LaunchKnot(b.t, k); return err })
	}
}

// corruptDS changes the last digit of every DS digest: a DS matching no
// key.
func corruptDS(ds string) (string, error) {
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimSpace(ds), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		last := line[len(line)-1]
		repl := byte('0')
		if last == '0' {
			repl = '1'
		}
		b.WriteString(line[:len(line)-1] + string(repl) + "\n")
	}
	if b.Len() == 0 {
		return "", errors.New("keymgr gave no DS for badds.test")
	}
	return b.String(), nil
}

// dropNSEC3 removes the NSEC3 record (and its signature) whose span covers
// name: the proof that name does not exist then has a hole.
func dropNSEC3(text, name string) string {
	drop := ""
	for _, line := range strings.Split(text, "\n") {
		if rr, err := dns.NewRR(line); err == nil && rr != nil {
			if n3, ok := rr.(*dns.NSEC3); ok && n3.Cover(name) {
				drop = strings.ToLower(n3.Hdr.Name)
			}
		}
	}
	var b strings.Builder
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		isN3 := len(f) >= 4 && (f[2] == "NSEC3" || f[2] == "RRSIG" && f[3] == "NSEC3")
		if isN3 && strings.EqualFold(f[0], drop) {
			continue
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}

// signExpired signs the zone text with a fresh ECDSA key, every signature
// valid from 30 days ago to a day ago, and returns the signed zone and the
// DS for the parent.
func signExpired(t testing.TB, origin, text string) (string, string) {
	t.Helper()
	key := &dns.DNSKEY{Hdr: dns.RR_Header{Name: origin, Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: 3600},
		Flags: 257, Protocol: 3, Algorithm: dns.ECDSAP256SHA256}
	priv, err := key.Generate(256)
	if err != nil {
		t.Fatal(err)
	}
	zp := dns.NewZoneParser(strings.NewReader(text), origin, "")
	sets := map[string][]dns.RR{}
	var order []string
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		k := strings.ToLower(rr.Header().Name) + " " + dns.TypeToString[rr.Header().Rrtype]
		if _, seen := sets[k]; !seen {
			order = append(order, k)
		}
		sets[k] = append(sets[k], rr)
	}
	if err := zp.Err(); err != nil {
		t.Fatal(err)
	}
	sets[strings.ToLower(origin)+" DNSKEY"] = []dns.RR{key}
	order = append(order, strings.ToLower(origin)+" DNSKEY")
	now := time.Now()
	var b strings.Builder
	for _, k := range order {
		set := sets[k]
		for _, rr := range set {
			b.WriteString(rr.String() + "\n")
		}
		sig := &dns.RRSIG{Hdr: dns.RR_Header{Name: set[0].Header().Name, Rrtype: dns.TypeRRSIG, Class: dns.ClassINET, Ttl: 3600},
			Inception: uint32(now.Add(-30 * 24 * time.Hour).Unix()), Expiration: uint32(now.Add(-24 * time.Hour).Unix()),
			KeyTag: key.KeyTag(), SignerName: origin, Algorithm: key.Algorithm}
		if err := sig.Sign(priv.(crypto.Signer), set); err != nil {
			t.Fatalf("signing %s: %v", k, err)
		}
		b.WriteString(sig.String() + "\n")
	}
	return b.String(), key.ToDS(dns.SHA256).String() + "\n"
}
