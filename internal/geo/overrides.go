package geo

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Override is one operator entry: what to report for every address in
// Prefix. It takes precedence over the data files and over the
// special-purpose labels (a company's own 10.0.0.0/8 data centre may well
// have a place). Fields left empty fall back to the data files, except that
// a location in the override (city, country or coordinates) replaces the
// data's location as a whole, and an ASN replaces the data's ASN and
// organisation.
type Override struct {
	Prefix      netip.Prefix
	Label       string
	City        string
	Region      string
	CountryCode string
	Latitude    float64
	Longitude   float64
	HasCoords   bool
	ASN         uint32
	ASOrg       string
	// Anycast marks the prefix as announced from many places (see
	// Info.Anycast); its location, if any, is then one site.
	Anycast bool
}

// hasLocation reports whether the override says where its prefix is.
func (o *Override) hasLocation() bool {
	return o.HasCoords || o.City != "" || o.CountryCode != "" || o.Region != ""
}

// overrideFile is the YAML shape of an overrides file:
//
//	overrides:
//	  - cidr: 10.20.0.0/16
//	    label: London DC
//	    city: London
//	    country_code: GB
//	    latitude: 51.5072
//	    longitude: -0.1276
//	    asn: 64512
//	    as_org: Example Ltd
//	  - cidr: 192.0.2.53/32
//	    label: our anycast resolver
//	    anycast: true
type overrideFile struct {
	Overrides []overrideEntry `yaml:"overrides"`
}

type overrideEntry struct {
	CIDR        string   `yaml:"cidr"`
	Label       string   `yaml:"label"`
	City        string   `yaml:"city"`
	Region      string   `yaml:"region"`
	CountryCode string   `yaml:"country_code"`
	Latitude    *float64 `yaml:"latitude"`
	Longitude   *float64 `yaml:"longitude"`
	ASN         uint32   `yaml:"asn"`
	ASOrg       string   `yaml:"as_org"`
	Anycast     bool     `yaml:"anycast"`
}

// ErrBadOverrides marks an overrides file that cannot be used.
var ErrBadOverrides = errors.New("bad overrides file")

// ParseOverrides reads an overrides file (format in the package docs). Every
// problem found is reported, joined, each with the entry's number.
func ParseOverrides(r io.Reader) ([]Override, error) {
	raw, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("reading overrides: %w", err)
	}
	var f overrideFile
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && err != io.EOF {
		return nil, fmt.Errorf("%w: %w", ErrBadOverrides, err)
	}
	var errs []error
	out := make([]Override, 0, len(f.Overrides))
	for i, e := range f.Overrides {
		o, err := e.validate()
		if err != nil {
			errs = append(errs, fmt.Errorf("%w: entry %d (cidr %q): %w", ErrBadOverrides, i+1, e.CIDR, err))
			continue
		}
		out = append(out, o)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	sortOverrides(out)
	return out, nil
}

func (e overrideEntry) validate() (Override, error) {
	var errs []error
	p, err := netip.ParsePrefix(strings.TrimSpace(e.CIDR))
	if err != nil {
		errs = append(errs, fmt.Errorf("cidr: want a prefix such as 10.0.0.0/8 or 2001:db8::/32"))
	}
	if e.Latitude != nil && !(*e.Latitude >= -90 && *e.Latitude <= 90) { // NaN too
		errs = append(errs, fmt.Errorf("latitude %g: want -90 to 90", *e.Latitude))
	}
	if e.Longitude != nil && !(*e.Longitude >= -180 && *e.Longitude <= 180) {
		errs = append(errs, fmt.Errorf("longitude %g: want -180 to 180", *e.Longitude))
	}
	if (e.Latitude == nil) != (e.Longitude == nil) {
		errs = append(errs, errors.New("latitude and longitude go together: give both or neither"))
	}
	if _, ok := codeIndex(e.CountryCode); e.CountryCode != "" && !ok {
		errs = append(errs, fmt.Errorf("country_code %q: want two letters (ISO 3166-1 alpha-2)", e.CountryCode))
	}
	if len(errs) > 0 {
		return Override{}, errors.Join(errs...)
	}
	if p.Addr().Is4In6() && p.Bits() >= 96 { // ::ffff:10.0.0.0/104 means 10.0.0.0/8
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	o := Override{
		Prefix: p.Masked(), Label: e.Label, City: e.City, Region: e.Region,
		CountryCode: strings.ToUpper(e.CountryCode), ASN: e.ASN, ASOrg: e.ASOrg, Anycast: e.Anycast,
	}
	if e.Latitude != nil {
		o.Latitude, o.Longitude, o.HasCoords = *e.Latitude, *e.Longitude, true
	}
	return o, nil
}

// sortOverrides puts the most specific prefixes first, so the first match
// is the longest.
func sortOverrides(o []Override) {
	slices.SortStableFunc(o, func(a, b Override) int { return b.Prefix.Bits() - a.Prefix.Bits() })
}

// matchOverride returns the most specific override holding a, or nil.
func matchOverride(o []Override, a netip.Addr) *Override {
	for i := range o {
		if o[i].Prefix.Contains(a) {
			return &o[i]
		}
	}
	return nil
}
