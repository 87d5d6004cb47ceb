// Package geo answers where an IP address is and which network holds it,
// offline, from data files the operator controls: MaxMind DB (mmdb) files
// in the MaxMind GeoLite2/GeoIP2 City, Country and ASN schemas, the flat
// schema of ip-location-db's DB-IP Lite files, and IPinfo Lite; and
// ip-location-db ASN range CSVs, held as a compact sorted table.
//
// Special-purpose addresses (private, CGNAT, loopback, link-local,
// documentation, multicast, reserved ...: the IANA registries) are labelled
// and never geolocated. Operator overrides (YAML, CIDR → label, location,
// ASN) take precedence over everything else. Data files are reloaded when
// they change on disk (Watch, Reload) by swapping an immutable snapshot, so
// lookups never lock. Missing files are not errors: lookups say what is
// missing in Info.Note.
//
// A lookup takes well under a microsecond and, once the reader's string
// cache is warm, does not allocate.
package geo

import (
	"context"
	"errors"
	"net/netip"
	"sync"
	"sync/atomic"
)

// Info is what is known about one address. Zero values mean unknown.
type Info struct {
	Addr netip.Addr `json:"addr"`
	// Special is the special-purpose category (Special* constants) when the
	// address is in an IANA special-purpose range; SpecialNote names the range.
	Special     string `json:"special,omitempty"`
	SpecialNote string `json:"special_note,omitempty"`
	// Label comes from a matching operator override.
	Label string `json:"label,omitempty"`
	// Anycast is set for an address announced from many places: in the
	// shipped list of well-known anycast prefixes (root servers, public
	// resolvers), an IANA anycast range, or an override with anycast: true.
	// The location a data file gives for it is one of its sites at best.
	// AnycastService names the shipped entry ("k.root-servers.net (RIPE NCC)").
	Anycast        bool   `json:"anycast,omitempty"`
	AnycastService string `json:"anycast_service,omitempty"`

	// Located is true when Latitude and Longitude are known.
	Located   bool    `json:"located"`
	Latitude  float64 `json:"latitude,omitempty"`
	Longitude float64 `json:"longitude,omitempty"`
	// AccuracyKM is the radius of uncertainty around the coordinates, when the
	// source gives one (MaxMind).
	AccuracyKM    uint16 `json:"accuracy_radius_km,omitempty"`
	City          string `json:"city,omitempty"`
	Region        string `json:"region,omitempty"`
	RegionCode    string `json:"region_code,omitempty"`
	CountryCode   string `json:"country_code,omitempty"`
	Country       string `json:"country,omitempty"`
	ContinentCode string `json:"continent_code,omitempty"`
	Continent     string `json:"continent,omitempty"`
	TimeZone      string `json:"time_zone,omitempty"`
	// Network is the prefix of the location record that answered.
	Network netip.Prefix `json:"network,omitzero"`

	ASN      uint32 `json:"asn,omitempty"`
	ASOrg    string `json:"as_org,omitempty"`
	ASDomain string `json:"as_domain,omitempty"`

	// LocationSource and ASNSource name the file (base name) or "overrides"
	// that answered.
	LocationSource string `json:"location_source,omitempty"`
	ASNSource      string `json:"asn_source,omitempty"`
	// Note says why something is missing: a special-purpose address, no data
	// loaded, the address not in the data.
	Note string `json:"note,omitempty"`
}

// Notes set in Info.Note.
const (
	NoteSpecial     = "special-purpose address: not geolocated"
	NoteNoCityData  = "no location data loaded"
	NoteNoASNData   = "no ASN data loaded"
	NoteNoData      = "no location or ASN data loaded"
	NoteNotInData   = "address not in the data files"
	NoteInvalidAddr = "invalid address"
)

// Config says which files to read. The zero value reads nothing: every
// lookup then only classifies special-purpose addresses. DefaultConfig
// gives the files `make geo` fetches.
type Config struct {
	// City lists mmdb files with location data (MaxMind City or Country,
	// DB-IP/ip-location-db flat, IPinfo Lite), asked in order until one knows
	// the address. A file that holds only IPv4 is not asked about IPv6.
	City []string
	// ASN lists ASN sources, asked in order: mmdb files (MaxMind ASN, IPinfo
	// Lite, ip-location-db ASN mmdb) or ip-location-db CSV files (name ending
	// in .csv: start,end,asn,organisation).
	ASN []string
	// Overrides is an operator overrides YAML file; empty means none.
	Overrides string
}

// DB answers lookups from the current snapshot of the data files. It is safe
// for concurrent use; Reload and Watch swap snapshots atomically.
type DB struct {
	cfg       Config
	snap      atomic.Pointer[snapshot]
	reloadMu  sync.Mutex
	recs      sync.Pool // *record scratch for mmdb decoding
	special   *specialTable
	countries *countryTable
	anycast   *anycastTable
}

// ErrNoData marks a DB with no data file loaded at all.
var ErrNoData = errors.New("no geo data loaded")

// Open loads the files in cfg. Missing files are not an error (they are
// reported in Status and Info.Note, and picked up by Watch when they
// appear); a file that exists but cannot be read or parsed is.
func Open(cfg Config) (*DB, error) {
	list, err := ShippedAnycast()
	if err != nil {
		return nil, err
	}
	d := &DB{cfg: cfg, special: newSpecialTable(), countries: newCountryTable(), anycast: newAnycastTable(list)}
	d.recs.New = func() any { return new(record) }
	s, err := load(cfg, nil)
	d.snap.Store(s)
	if err != nil {
		return nil, err
	}
	return d, nil
}

// Lookup returns what is known about a. IPv4-mapped IPv6 addresses are
// looked up as IPv4; zones are ignored.
func (d *DB) Lookup(a netip.Addr) Info {
	var info Info
	d.lookup(d.snap.Load(), a, &info)
	return info
}

// Enrich looks up every address, in order, against one snapshot of the
// data. It stops early, returning what it has, when ctx is done.
func (d *DB) Enrich(ctx context.Context, addrs []netip.Addr) []Info {
	out := make([]Info, len(addrs))
	n := d.EnrichInto(ctx, out, addrs)
	return out[:n]
}

// EnrichInto is Enrich into dst, reusing its memory; it fills
// min(len(dst), len(addrs)) entries, or fewer when ctx is done, and returns
// how many.
func (d *DB) EnrichInto(ctx context.Context, dst []Info, addrs []netip.Addr) int {
	s := d.snap.Load()
	addrs = addrs[:min(len(dst), len(addrs))]
	for i, a := range addrs {
		if i&31 == 0 && ctx.Err() != nil {
			return i
		}
		dst[i] = Info{}
		d.lookup(s, a, &dst[i])
	}
	return len(addrs)
}

// Close releases the mapped files. Lookups must not run during or after it.
func (d *DB) Close() error {
	s := d.snap.Swap(&snapshot{})
	if s == nil {
		return nil
	}
	return s.close()
}

func (d *DB) lookup(s *snapshot, a netip.Addr, info *Info) {
	a = a.Unmap().WithZone("")
	info.Addr = a
	if !a.IsValid() {
		info.Note = NoteInvalidAddr
		return
	}
	ov := matchOverride(s.overrides, a)
	if name := d.anycast.match(a); name != "" {
		info.Anycast, info.AnycastService = true, name
	}
	if kind, note, ok := d.special.classify(a); ok {
		info.Special, info.SpecialNote = kind, note
		info.Anycast = info.Anycast || kind == SpecialAnycast
		if ov == nil {
			info.Note = NoteSpecial
			return
		}
	}
	if ov != nil {
		d.applyOverride(ov, info)
		if info.Special != "" {
			d.fillCountry(info)
			return
		}
	}
	needLoc := ov == nil || !ov.hasLocation()
	needASN := ov == nil || ov.ASN == 0
	d.fromData(s, a, info, needLoc, needASN)
	d.fillCountry(info)
}

// applyOverride copies what the override says.
func (d *DB) applyOverride(ov *Override, info *Info) {
	info.Label = ov.Label
	info.Anycast = info.Anycast || ov.Anycast
	if ov.hasLocation() {
		info.City, info.Region, info.CountryCode = ov.City, ov.Region, ov.CountryCode
		info.Latitude, info.Longitude, info.Located = ov.Latitude, ov.Longitude, ov.HasCoords
		info.Network = ov.Prefix
		info.LocationSource = SourceOverrides
	}
	if ov.ASN != 0 {
		info.ASN, info.ASOrg = ov.ASN, ov.ASOrg
		info.ASNSource = SourceOverrides
	}
}

// SourceOverrides is the source name of answers from the overrides file.
const SourceOverrides = "overrides"

// fromData fills location and ASN from the data files.
func (d *DB) fromData(s *snapshot, a netip.Addr, info *Info, needLoc, needASN bool) {
	rec := d.recs.Get().(*record)
	defer d.recs.Put(rec)
	var cityASN uint32
	var cityASOrg, cityASDomain, citySource string
	if needLoc {
		if src := s.locate(a, rec, info); src != nil {
			info.LocationSource = src.name
			d.copyLocation(rec, info)
			cityASN, cityASOrg, cityASDomain, citySource = rec.asn, rec.asOrg, rec.asDomain, src.name
		}
	}
	if needASN {
		if name, ok := s.asn(a, rec, info); ok {
			info.ASNSource = name
		} else if cityASN != 0 {
			info.ASN, info.ASOrg, info.ASDomain, info.ASNSource = cityASN, cityASOrg, cityASDomain, citySource
		}
	}
	switch {
	case len(s.city) == 0 && len(s.asns) == 0:
		info.Note = NoteNoData
	case needLoc && len(s.city) == 0:
		info.Note = NoteNoCityData
	case info.LocationSource == "" && info.ASNSource == "":
		info.Note = NoteNotInData
	case needASN && len(s.asns) == 0 && info.ASN == 0:
		info.Note = NoteNoASNData
	}
}

func (d *DB) copyLocation(rec *record, info *Info) {
	info.City, info.Region, info.RegionCode = rec.city, rec.region, rec.regionCode
	info.CountryCode, info.Country = rec.countryCode, rec.country
	info.ContinentCode, info.Continent = rec.continentCode, rec.continent
	info.TimeZone, info.AccuracyKM = rec.timeZone, rec.accuracy
	if rec.hasLat && rec.hasLon {
		info.Latitude, info.Longitude, info.Located = rec.lat, rec.lon, true
	}
}

// fillCountry completes country and continent names from the country code.
func (d *DB) fillCountry(info *Info) {
	if info.CountryCode == "" {
		return
	}
	c, ok := d.countries.country(info.CountryCode)
	if !ok {
		return
	}
	if info.Country == "" {
		info.Country = c.name
	}
	if info.ContinentCode == "" {
		info.ContinentCode = c.continentCode
	}
	if info.Continent == "" {
		info.Continent = d.countries.continentName(info.ContinentCode)
	}
}

// FillPlace sets *lat and *lon from i when i is located, and *city and
// *country when they are empty; it reports whether i was located. It
// places a location (the server's own, an agent's) from its address.
func (i *Info) FillPlace(lat, lon **float64, city, country *string) bool {
	if !i.Located {
		return false
	}
	la, lo := i.Latitude, i.Longitude
	*lat, *lon = &la, &lo
	if *city == "" {
		*city = i.City
	}
	if *country == "" {
		*country = i.Country
	}
	return true
}
