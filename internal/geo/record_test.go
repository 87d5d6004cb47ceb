package geo

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/maxmind/mmdbwriter/mmdbtype"
	"github.com/oschwald/maxminddb-golang/v2"

	"github.com/dnsscience/dnsscience/internal/geo/geotest"
)

// FuzzRecordDecode feeds arbitrary mmdb bytes to the record decoder: it must
// return (an error or a record), never panic or hang.
func FuzzRecordDecode(f *testing.F) {
	fx := writeFixtures(f, f.TempDir())
	for _, p := range []string{fx.maxmindCity, fx.maxmindASN, fx.dbip4, fx.ipinfo} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	addrs := []netip.Addr{netip.MustParseAddr("81.2.69.142"), netip.MustParseAddr("8.8.8.8"),
		netip.MustParseAddr("9.9.9.9"), netip.MustParseAddr("2a02:ff00::1")}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := maxminddb.OpenBytes(data)
		if err != nil {
			return
		}
		for _, a := range addrs {
			var rec record
			_ = r.Lookup(a).Decode(&rec)
		}
	})
}

// TestRecordSkipsUnexpectedKinds checks a record whose known keys hold
// values of unexpected kinds: they are skipped, the rest is read.
func TestRecordSkipsUnexpectedKinds(t *testing.T) {
	path := filepath.Join(t.TempDir(), "odd.mmdb")
	writeOddMMDB(t, path)
	db := mustOpen(t, Config{City: []string{path}})
	got := db.Lookup(netip.MustParseAddr("8.8.8.8"))
	if got.City != "Odd" || got.CountryCode != "US" || got.Located || got.ASN != 0 || got.Region != "" {
		t.Errorf("got %+v, want city Odd, country US, no coordinates, ASN or region", got)
	}
}

// TestRecordWorkBudget: a record with more entries than any real one is
// refused (the lookup finds nothing) instead of decoded at any cost.
func TestRecordWorkBudget(t *testing.T) {
	huge := mmdbtype.Map{"city": mmdbtype.String("Huge"), "country_code": mmdbtype.String("US")}
	for i := range maxRecordWork + 10 {
		huge[mmdbtype.String(fmt.Sprintf("k%d", i))] = mmdbtype.Uint16(1)
	}
	path := filepath.Join(t.TempDir(), "huge.mmdb")
	geotest.WriteMMDB(t, path, "huge", 4, []geotest.Entry{
		{Prefix: "8.8.8.0/24", Data: huge},
		{Prefix: "9.9.9.0/24", Data: mmdbtype.Map{"city": mmdbtype.String("Small"), "country_code": mmdbtype.String("CH")}},
	})
	db := mustOpen(t, Config{City: []string{path}})
	if got := db.Lookup(netip.MustParseAddr("8.8.8.8")); got.City != "" || got.Note != NoteNotInData {
		t.Errorf("oversized record: got %+v, want nothing found", got)
	}
	if got := db.Lookup(netip.MustParseAddr("9.9.9.9")); got.City != "Small" {
		t.Errorf("normal record next to it: got %+v", got)
	}
}
