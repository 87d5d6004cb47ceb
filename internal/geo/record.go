package geo

import (
	"errors"
	"math"
	"strconv"

	"github.com/oschwald/maxminddb-golang/v2/mmdbdata"
)

// record is what one mmdb record holds, whatever its schema. Its decoder
// walks the record's map once, reads the keys it knows and skips the rest,
// so one type serves the MaxMind City/Country/ASN schemas, the flat schema of
// ip-location-db (DB-IP Lite, GeoLite2 flat exports) and IPinfo Lite, without
// reflection or maps. Strings come from the reader's string cache, so a
// repeated record decodes without allocating.
type record struct {
	city          string
	region        string
	regionCode    string
	countryCode   string
	country       string
	continentCode string
	continent     string
	timeZone      string
	lat, lon      float64
	hasLat        bool
	hasLon        bool
	accuracy      uint16
	asn           uint32
	asOrg         string
	asDomain      string
	work          int // map and slice entries visited, against maxRecordWork
}

// maxRecordWork bounds the entries one record decode visits. Real records
// have tens (a MaxMind City record with names in eight languages about
// 80); a crafted file whose maps point at each other could otherwise make a
// decode take unbounded time.
const maxRecordWork = 1024

// errRecordTooLarge marks a record that exceeds maxRecordWork.
var errRecordTooLarge = errors.New("mmdb record too large or self-referential")

func (r *record) spend() error {
	r.work++
	if r.work > maxRecordWork {
		return errRecordTooLarge
	}
	return nil
}

// located reports whether the record says anything about a place.
func (r *record) located() bool {
	return r.countryCode != "" || r.country != "" || r.city != "" || (r.hasLat && r.hasLon)
}

var _ mmdbdata.CursorUnmarshaler = (*record)(nil)

// UnmarshalMaxMindDBCursor decodes one record map.
func (r *record) UnmarshalMaxMindDBCursor(c mmdbdata.Cursor) (mmdbdata.Cursor, error) {
	m, err := c.Map()
	if err != nil {
		return mmdbdata.Cursor{}, mmdbdata.NormalizeUnmarshalError[record](err)
	}
	return r.eachEntry(m, func(key []byte, val mmdbdata.Cursor) (mmdbdata.Cursor, error) {
		return r.field(string(key), val)
	})
}

// eachEntry walks the map m, charging the work budget for every entry, and
// decodes each value with fn, which returns the cursor after the value.
func (r *record) eachEntry(m mmdbdata.MapCursor, fn func(key []byte, val mmdbdata.Cursor) (mmdbdata.Cursor, error)) (mmdbdata.Cursor, error) {
	var next mmdbdata.Cursor
	for {
		key, val, ok := m.Next(next)
		if !ok {
			break
		}
		if err := r.spend(); err != nil {
			return mmdbdata.Cursor{}, err
		}
		var err error
		if next, err = fn(key, val); err != nil {
			return mmdbdata.Cursor{}, err
		}
	}
	return m.End()
}

// field decodes the value of one top-level key. string(key) in a switch does
// not allocate.
func (r *record) field(key string, v mmdbdata.Cursor) (mmdbdata.Cursor, error) {
	switch key {
	case "city": // flat: string; MaxMind: {names: {en: ...}}
		return r.readNameOrString(v, &r.city, nil)
	case "country": // MaxMind: {iso_code, names}; IPinfo: the name
		return r.readNameOrString(v, &r.country, &r.countryCode)
	case "continent": // MaxMind: {code, names}; IPinfo: the name
		return r.readNameOrString(v, &r.continent, &r.continentCode)
	case "country_code":
		return readString(v, &r.countryCode)
	case "continent_code":
		return readString(v, &r.continentCode)
	case "state1":
		return readString(v, &r.region)
	case "subdivisions":
		return r.readSubdivisions(v)
	case "location":
		return r.readLocation(v)
	case "latitude":
		return readFloat(v, &r.lat, &r.hasLat)
	case "longitude":
		return readFloat(v, &r.lon, &r.hasLon)
	case "timezone":
		return readString(v, &r.timeZone)
	case "autonomous_system_number":
		return readUint32(v, &r.asn)
	case "autonomous_system_organization", "as_name":
		return readString(v, &r.asOrg)
	case "as_domain":
		return readString(v, &r.asDomain)
	case "asn": // IPinfo Lite: "AS15169"
		return r.readASNString(v)
	}
	return v.Skip()
}

func (r *record) readASNString(v mmdbdata.Cursor) (mmdbdata.Cursor, error) {
	var s string
	next, err := readString(v, &s)
	if err != nil {
		return next, err
	}
	if len(s) > 2 && (s[:2] == "AS" || s[:2] == "as") {
		s = s[2:]
	}
	if n, perr := strconv.ParseUint(s, 10, 32); perr == nil {
		r.asn = uint32(n)
	}
	return next, nil
}

// readLocation decodes MaxMind's location map.
func (r *record) readLocation(v mmdbdata.Cursor) (mmdbdata.Cursor, error) {
	m, ok, err := mapOf(v)
	if err != nil || !ok {
		return skipOr(v, err)
	}
	return r.eachEntry(m, func(key []byte, val mmdbdata.Cursor) (mmdbdata.Cursor, error) {
		switch string(key) {
		case "latitude":
			return readFloat(val, &r.lat, &r.hasLat)
		case "longitude":
			return readFloat(val, &r.lon, &r.hasLon)
		case "accuracy_radius":
			var n uint32
			next, err := readUint32(val, &n)
			r.accuracy = uint16(min(n, 65535))
			return next, err
		case "time_zone":
			return readString(val, &r.timeZone)
		}
		return val.Skip()
	})
}

// readSubdivisions takes the first (largest) subdivision as the region.
func (r *record) readSubdivisions(v mmdbdata.Cursor) (mmdbdata.Cursor, error) {
	if k, err := v.Kind(); err != nil || k != mmdbdata.KindSlice {
		return skipOr(v, err)
	}
	s, err := v.Slice()
	if err != nil {
		return mmdbdata.Cursor{}, err
	}
	var next mmdbdata.Cursor
	for {
		i, val, ok := s.Next(next)
		if !ok {
			break
		}
		if err := r.spend(); err != nil {
			return mmdbdata.Cursor{}, err
		}
		if i == 0 {
			next, err = r.readNameOrString(val, &r.region, &r.regionCode)
		} else {
			next, err = val.Skip()
		}
		if err != nil {
			return mmdbdata.Cursor{}, err
		}
	}
	return s.End()
}

// readNameOrString reads either a plain string into name, or a MaxMind map
// {iso_code|code, names: {en}} into name and code (code may be nil).
func (r *record) readNameOrString(v mmdbdata.Cursor, name, code *string) (mmdbdata.Cursor, error) {
	k, err := v.Kind()
	if err != nil {
		return mmdbdata.Cursor{}, err
	}
	if k == mmdbdata.KindString {
		return readString(v, name)
	}
	if k != mmdbdata.KindMap {
		return v.Skip()
	}
	m, err := v.Map()
	if err != nil {
		return mmdbdata.Cursor{}, err
	}
	return r.eachEntry(m, func(key []byte, val mmdbdata.Cursor) (mmdbdata.Cursor, error) {
		switch k := string(key); {
		case (k == "iso_code" || k == "code") && code != nil:
			return readString(val, code)
		case k == "names":
			return r.readEnglishName(val, name)
		}
		return val.Skip()
	})
}

// readEnglishName reads names["en"].
func (r *record) readEnglishName(v mmdbdata.Cursor, name *string) (mmdbdata.Cursor, error) {
	m, ok, err := mapOf(v)
	if err != nil || !ok {
		return skipOr(v, err)
	}
	return r.eachEntry(m, func(key []byte, val mmdbdata.Cursor) (mmdbdata.Cursor, error) {
		if string(key) == "en" {
			return readString(val, name)
		}
		return val.Skip()
	})
}

// mapOf opens v as a map; ok is false when v is something else.
func mapOf(v mmdbdata.Cursor) (m mmdbdata.MapCursor, ok bool, err error) {
	k, err := v.Kind()
	if err != nil || k != mmdbdata.KindMap {
		return m, false, err
	}
	m, err = v.Map()
	return m, err == nil, err
}

func skipOr(v mmdbdata.Cursor, err error) (mmdbdata.Cursor, error) {
	if err != nil {
		return mmdbdata.Cursor{}, err
	}
	return v.Skip()
}

// readString reads a string; a value of another kind is skipped. The read
// is tried first: checking the kind beforehand would decode the control
// bytes twice on the common path.
func readString(v mmdbdata.Cursor, dst *string) (mmdbdata.Cursor, error) {
	s, next, err := v.ReadString()
	if err != nil {
		return v.Skip()
	}
	*dst = s
	return next, nil
}

// readFloat reads a float32 or float64 coordinate, rounded to 1e-5 degrees
// (about a metre): float32 coordinates (DB-IP) would otherwise print as
// 37.422000885009766.
func readFloat(v mmdbdata.Cursor, dst *float64, ok *bool) (mmdbdata.Cursor, error) {
	f, next, err := v.ReadFloat()
	if err != nil {
		return v.Skip()
	}
	*dst, *ok = math.Round(f*1e5)/1e5, true
	return next, nil
}

// readUint32 reads an unsigned integer that fits 32 bits; other kinds are
// skipped.
func readUint32(v mmdbdata.Cursor, dst *uint32) (mmdbdata.Cursor, error) {
	n, next, err := v.ReadUint()
	if err != nil {
		return v.Skip()
	}
	*dst = uint32(min(n, 1<<32-1))
	return next, nil
}
