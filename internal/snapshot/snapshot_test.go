package snapshot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/dnsscience/dnsscience/internal/dnsq"
	"github.com/dnsscience/dnsscience/internal/dnstest"
)

// zoneText is snap.test at a serial, with the parts a test changes.
func zoneText(serial int, www, extra string) string {
	return fmt.Sprintf(`$ORIGIN snap.test.
$TTL 3600
@        IN SOA ns1 hostmaster %d 7200 900 1209600 300
@        IN NS  ns1
@        IN MX  10 mail
@        IN TXT "v=spf1 mx -all"
ns1      IN A   127.0.0.1
mail     IN A   192.0.2.25
www      IN A   %s
_dmarc   IN TXT "v=DMARC1; p=reject"
secret   IN A   192.0.2.99
%s`, serial, www, extra)
}

func server(t *testing.T, k *dnstest.KnotServer) dnsq.Server {
	t.Helper()
	s, err := dnsq.ParseServer(k.Addr)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func take(t *testing.T, tk *Taker) *Snapshot {
	t.Helper()
	s, err := tk.Take(context.Background(), "Snap.Test")
	if err != nil {
		t.Fatalf("Take: %v", err)
	}
	return s
}

// changes renders a diff's changes one per line: op name type +added -removed.
func changes(d *Diff) string {
	var b strings.Builder
	for _, c := range d.Changes {
		fmt.Fprintf(&b, "%s %s %s", c.Op, c.Name, c.Type)
		for _, x := range c.Added {
			fmt.Fprintf(&b, " +%s", x)
		}
		for _, x := range c.Removed {
			fmt.Fprintf(&b, " -%s", x)
		}
		if c.Op == Added {
			fmt.Fprintf(&b, " %v", c.New.Data)
		}
		if c.Op == Removed {
			fmt.Fprintf(&b, " %v", c.Old.Data)
		}
		b.WriteString("\n")
	}
	return b.String()
}

func TestSnapshotTransferThenDiff(t *testing.T) {
	t.Parallel()
	k := dnstest.StartKnot(t, dnstest.Knot{Zones: map[string]string{"snap.test": zoneText(1, "192.0.2.80", "old IN TXT \"going\"\n")}})
	tk := &Taker{Servers: []dnsq.Server{server(t, k)}}
	a := take(t, tk)
	if a.Method != MethodAXFR || a.Serial != 1 || a.Domain != "snap.test." || a.TransferError != "" {
		t.Fatalf("snapshot = method %s serial %d domain %s (%s); want an axfr of snap.test. at serial 1", a.Method, a.Serial, a.Domain, a.TransferError)
	}
	if got := a.Records(); got != 10 {
		t.Errorf("records = %d, want the zone's 10", got)
	}
	if a.RRsets[0].Name != "snap.test." || a.RRsets[len(a.RRsets)-1].Name != "www.snap.test." {
		t.Errorf("RRsets not in DNS order: first %s, last %s", a.RRsets[0].Name, a.RRsets[len(a.RRsets)-1].Name)
	}

	// The edit: www moves, new appears, old goes, MX's TTL and the serial change.
	edited := strings.Replace(zoneText(2, "192.0.2.81", "new IN AAAA 2001:db8::1\n"), "@        IN MX  10 mail", "@ 60 IN MX 10 mail", 1)
	k.Reload(t, "snap.test", edited, 2)
	b := take(t, tk)
	if b.Serial != 2 {
		t.Fatalf("second snapshot serial = %d, want 2", b.Serial)
	}
	d, err := Compare(a, b, DiffOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := "added new.snap.test. AAAA [2001:db8::1]\n" +
		"removed old.snap.test. TXT [\"going\"]\n" +
		"changed www.snap.test. A +192.0.2.81 -192.0.2.80\n"
	if got := changes(d); got != want || d.Equal || d.Added != 1 || d.Removed != 1 || d.Changed != 1 || d.Partial {
		t.Errorf("diff:\n%s(equal %v, +%d -%d ~%d, partial %v)\nwant:\n%s", got, d.Equal, d.Added, d.Removed, d.Changed, d.Partial, want)
	}

	d, err = Compare(a, b, DiffOptions{Serial: true, TTL: true})
	if err != nil {
		t.Fatal(err)
	}
	want = "changed snap.test. MX\n" +
		"changed snap.test. SOA +ns1.snap.test. hostmaster.snap.test. 2 7200 900 1209600 300 -ns1.snap.test. hostmaster.snap.test. 1 7200 900 1209600 300\n" +
		"added new.snap.test. AAAA [2001:db8::1]\n" +
		"removed old.snap.test. TXT [\"going\"]\n" +
		"changed www.snap.test. A +192.0.2.81 -192.0.2.80\n"
	if got := changes(d); got != want {
		t.Errorf("diff --serial --ttl:\n%swant:\n%s", got, want)
	}
	if d, _ := Compare(b, b, DiffOptions{Serial: true, TTL: true}); !d.Equal || len(d.Changes) != 0 {
		t.Errorf("a snapshot compared with itself: %+v, want equal", d)
	}

	// Asked names only, from the same server: what both cover is equal.
	n := take(t, &Taker{Servers: tk.Servers, NoTransfer: true})
	if n.Method != MethodNames || n.TransferError != "" {
		t.Fatalf("NoTransfer snapshot method = %s (%s), want names without a transfer", n.Method, n.TransferError)
	}
	if d, _ := Compare(b, n, DiffOptions{Serial: true, TTL: true}); !d.Equal || !d.Partial {
		t.Errorf("axfr vs names of one zone:\n%s(equal %v, partial %v); want equal and partial", changes(d), d.Equal, d.Partial)
	}
}

func TestSnapshotTransferRefused(t *testing.T) {
	t.Parallel()
	k := dnstest.StartKnot(t, dnstest.Knot{NoTransfer: true, Zones: map[string]string{"snap.test": zoneText(7, "192.0.2.80", "")}})
	tk := &Taker{Servers: []dnsq.Server{server(t, k)}}
	a := take(t, tk)
	if a.Method != MethodNames || a.TransferError == "" || a.Serial != 7 {
		t.Fatalf("snapshot method %s, transfer error %q, serial %d; want names after a refused transfer, serial 7", a.Method, a.TransferError, a.Serial)
	}
	if !strings.Contains(a.TransferError, "REFUSED") && !strings.Contains(a.TransferError, "NOTAUTH") {
		t.Errorf("transfer error %q does not say the server refused", a.TransferError)
	}
	var got []string
	for _, rs := range a.RRsets {
		got = append(got, rs.Name+" "+rs.Type)
	}
	want := "snap.test. MX,snap.test. NS,snap.test. SOA,snap.test. TXT,_dmarc.snap.test. TXT,mail.snap.test. A,ns1.snap.test. A,www.snap.test. A"
	if strings.Join(got, ",") != want {
		t.Errorf("RRsets found by asking names:\n%s\nwant (secret is no common name):\n%s", strings.Join(got, ","), want)
	}

	k.Reload(t, "snap.test", zoneText(8, "192.0.2.81", "mta-sts IN CNAME www\n"), 8)
	b := take(t, tk)
	d, err := Compare(a, b, DiffOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want = "added mta-sts.snap.test. CNAME [www.snap.test.]\n" +
		"changed www.snap.test. A +192.0.2.81 -192.0.2.80\n"
	if got := changes(d); got != want || !d.Partial {
		t.Errorf("diff:\n%swant:\n%s(partial)", got, want)
	}
}

// TestSnapshotFindsNameServers finds the zone's servers by its NS records
// through a resolver (knotd answers for its zone), as without --server.
func TestSnapshotFindsNameServers(t *testing.T) {
	t.Parallel()
	k := dnstest.StartKnot(t, dnstest.Knot{Zones: map[string]string{"snap.test": zoneText(3, "192.0.2.80", "")}})
	srv := server(t, k)
	var port uint16
	fmt.Sscan(k.Addr[strings.LastIndexByte(k.Addr, ':')+1:], &port)
	s := take(t, &Taker{Resolvers: []dnsq.Server{srv}, Port: port})
	if s.Method != MethodAXFR || !strings.HasPrefix(s.Server, "ns1.snap.test. (127.0.0.1:") {
		t.Errorf("snapshot from %q by %s; want an axfr from ns1.snap.test. (127.0.0.1:port)", s.Server, s.Method)
	}
	_, err := (&Taker{Resolvers: []dnsq.Server{srv}, Port: port}).Take(context.Background(), "www.snap.test")
	if err == nil || !strings.Contains(err.Error(), "no NS records") {
		t.Errorf("snapshot of a name that is no zone: %v, want an error saying it has no NS records", err)
	}
	_, err = (&Taker{Servers: []dnsq.Server{srv}, MaxRecords: 3}).Take(context.Background(), "snap.test")
	if !errors.Is(err, ErrTooBig) {
		t.Errorf("snapshot of 9 records with MaxRecords 3: %v, want ErrTooBig", err)
	}
}

func TestReadRefusesOtherDocuments(t *testing.T) {
	t.Parallel()
	for _, doc := range []string{`{}`, `{"format":"dnsscience-snapshot","version":2,"domain":"a.","method":"axfr"}`,
		`{"format":"dnsscience-snapshot","version":1,"domain":"a.","method":"guess"}`, `[`} {
		if _, err := Parse([]byte(doc)); !errors.Is(err, ErrBadSnapshot) {
			t.Errorf("Parse(%s) = %v, want ErrBadSnapshot", doc, err)
		}
	}
	var b strings.Builder
	s := &Snapshot{Format: Format, Version: Version, Domain: "a.", Method: MethodAXFR, RRsets: []RRset{{Name: "a.", Type: "A", TTL: 1, Data: []string{"192.0.2.1"}}}}
	if err := s.Encode(&b); err != nil {
		t.Fatal(err)
	}
	back, err := Parse([]byte(b.String()))
	if err != nil || back.RRsets[0].Data[0] != "192.0.2.1" {
		t.Errorf("round trip = %+v, %v", back, err)
	}
}
