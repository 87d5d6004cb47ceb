package geo

import (
	"bufio"
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"unsafe"
)

// asnTable holds IP ranges → (ASN, organisation) as sorted parallel arrays,
// searched by binary search. Organisation names are stored once in one
// string blob, so a row costs 12 bytes (IPv4) or 36 bytes (IPv6) and the
// table holds a handful of pointers in all, whatever its size.
type asnTable struct {
	// v4idx and v6idx sample every asnBlock-th start: a lookup searches the
	// small sample (cache-resident) and then one block, instead of touching
	// ~19 cache lines of the full arrays.
	v4idx          []uint32
	v6idx          []u128
	v4start, v4end []uint32
	v4net          []uint32 // index into nets
	v6start, v6end []u128
	v6net          []uint32
	nets           []asnNet
	orgs           string // every distinct organisation name, concatenated
}

// u128 is an IPv6 address as two big-endian halves.
type u128 struct{ hi, lo uint64 }

func (a u128) less(b u128) bool { return a.hi < b.hi || (a.hi == b.hi && a.lo < b.lo) }

// asnNet is one distinct (ASN, organisation) pair.
type asnNet struct {
	asn      uint32
	orgStart uint32
	orgEnd   uint32
}

func addrU32(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func addrU128(a netip.Addr) u128 {
	b := a.As16()
	var v u128
	for i := range 8 {
		v.hi = v.hi<<8 | uint64(b[i])
		v.lo = v.lo<<8 | uint64(b[8+i])
	}
	return v
}

// maxNestBack is how many ranges before the candidate a lookup checks when
// the candidate does not hold the address: a range nested in a larger one
// (which the published files almost never have) hides the outer range only
// for addresses it holds.
const maxNestBack = 8

// asnBlock is the stride of the sampled first-level index.
const asnBlock = 64

// lookup returns the ASN and organisation of a, or ok=false. The range that
// starts last at or before a answers, so a nested range wins over the range
// around it.
func (t *asnTable) lookup(a netip.Addr) (asn uint32, org string, ok bool) {
	var i int // number of ranges starting at or before a
	var n uint32
	if a.Is4() {
		x := addrU32(a)
		lo, hi := blockBounds(upperU32(t.v4idx, x, 0, len(t.v4idx)), len(t.v4start))
		i = upperU32(t.v4start, x, lo, hi)
		k := i - 1
		for k >= 0 && k >= i-maxNestBack && t.v4end[k] < x {
			k--
		}
		if k < 0 || k < i-maxNestBack {
			return 0, "", false
		}
		n = t.v4net[k]
	} else {
		x := addrU128(a)
		lo, hi := blockBounds(upperU128(t.v6idx, x, 0, len(t.v6idx)), len(t.v6start))
		i = upperU128(t.v6start, x, lo, hi)
		k := i - 1
		for k >= 0 && k >= i-maxNestBack && t.v6end[k].less(x) {
			k--
		}
		if k < 0 || k < i-maxNestBack {
			return 0, "", false
		}
		n = t.v6net[k]
	}
	e := t.nets[n]
	return e.asn, t.orgs[e.orgStart:e.orgEnd], true
}

// blockBounds turns the count of sampled starts <= x into the range of rows
// to search.
func blockBounds(sampled, rows int) (lo, hi int) {
	if sampled == 0 {
		return 0, 0
	}
	lo = (sampled - 1) * asnBlock
	return lo, min(lo+asnBlock, rows)
}

// upperU32 returns the first index in [i, j) whose value is > x (j if none).
func upperU32(s []uint32, x uint32, i, j int) int {
	for i < j {
		h := int(uint(i+j) >> 1)
		if s[h] <= x {
			i = h + 1
		} else {
			j = h
		}
	}
	return i
}

// upperU128 is upperU32 for IPv6.
func upperU128(s []u128, x u128, i, j int) int {
	for i < j {
		h := int(uint(i+j) >> 1)
		if !x.less(s[h]) {
			i = h + 1
		} else {
			j = h
		}
	}
	return i
}

// rows reports the number of IPv4 and IPv6 ranges.
func (t *asnTable) rows() (v4, v6 int) { return len(t.v4start), len(t.v6start) }

// sizeBytes is the memory the table's arrays and strings hold.
func (t *asnTable) sizeBytes() int {
	return 4*(cap(t.v4idx)+cap(t.v4start)+cap(t.v4end)+cap(t.v4net)+cap(t.v6net)) +
		int(unsafe.Sizeof(u128{}))*(cap(t.v6idx)+cap(t.v6start)+cap(t.v6end)) +
		int(unsafe.Sizeof(asnNet{}))*cap(t.nets) + len(t.orgs)
}

// asnBuilder accumulates rows from one or more CSV files.
type asnBuilder struct {
	t       asnTable
	netIdx  map[netKey]uint32    // → index into t.nets
	orgIdx  map[string][2]uint32 // organisation → its span in orgs
	orgs    []byte
	last    netKey // the previous row's pair: neighbouring rows often share it
	lastIdx uint32
	scratch []byte // unquoting
}

// netKey identifies an (ASN, organisation) pair; the organisation by the
// start of its span in the blob.
type netKey struct {
	asn      uint32
	orgStart uint32
}

func newASNBuilder() *asnBuilder {
	return &asnBuilder{netIdx: map[netKey]uint32{}, orgIdx: map[string][2]uint32{}, lastIdx: ^uint32(0)}
}

// errBadCSV marks a malformed ASN CSV row.
var errBadCSV = errors.New("malformed ASN CSV")

// readCSV adds the rows of an ip-location-db ASN CSV: start,end,asn,org with
// start and end as IPv4 or IPv6 addresses and org optionally quoted (RFC
// 4180, on one line). It parses in place, allocating only for distinct
// organisations: loading half a million rows takes a fraction of a second.
func (b *asnBuilder) readCSV(r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<16), 1<<20)
	for line := 1; sc.Scan(); line++ {
		row := bytes.TrimRight(sc.Bytes(), "\r")
		if len(bytes.TrimSpace(row)) == 0 {
			continue
		}
		if err := b.addRow(row); err != nil {
			return fmt.Errorf("%w: line %d: %w", errBadCSV, line, err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%w: %w", errBadCSV, err)
	}
	return nil
}

// cutField splits off the text before the next comma.
func cutField(row []byte) (field, rest []byte, ok bool) {
	i := bytes.IndexByte(row, ',')
	if i < 0 {
		return row, nil, false
	}
	return row[:i], row[i+1:], true
}

// parseAddrField parses an address from bytes without copying them; on
// error it parses a copy so the error owns its text.
func parseAddrField(f []byte) (netip.Addr, error) {
	f = bytes.TrimSpace(f)
	a, err := netip.ParseAddr(unsafe.String(unsafe.SliceData(f), len(f)))
	if err != nil {
		_, err = netip.ParseAddr(string(f))
	}
	return a, err
}

func (b *asnBuilder) addRow(row []byte) error {
	startF, rest, ok1 := cutField(row)
	endF, rest, ok2 := cutField(rest)
	asnF, orgF, _ := cutField(rest)
	if !ok1 || !ok2 {
		return fmt.Errorf("got %d fields, want start,end,asn,organisation", bytes.Count(row, []byte(","))+1)
	}
	start, err := parseAddrField(startF)
	if err != nil {
		return fmt.Errorf("bad start address: %w", err)
	}
	end, err := parseAddrField(endF)
	if err != nil {
		return fmt.Errorf("bad end address: %w", err)
	}
	start, end = start.Unmap(), end.Unmap()
	if start.Is4() != end.Is4() || end.Less(start) {
		return fmt.Errorf("bad range %s-%s", start, end)
	}
	asn, err := strconv.ParseUint(strings.TrimPrefix(string(bytes.TrimSpace(asnF)), "AS"), 10, 32)
	if err != nil {
		return fmt.Errorf("bad ASN %q", asnF)
	}
	org, err := b.unquote(bytes.TrimSpace(orgF))
	if err != nil {
		return err
	}
	n := b.net(uint32(asn), org)
	if start.Is4() {
		b.t.v4start = append(b.t.v4start, addrU32(start))
		b.t.v4end = append(b.t.v4end, addrU32(end))
		b.t.v4net = append(b.t.v4net, n)
	} else {
		b.t.v6start = append(b.t.v6start, addrU128(start))
		b.t.v6end = append(b.t.v6end, addrU128(end))
		b.t.v6net = append(b.t.v6net, n)
	}
	return nil
}

// unquote undoes CSV quoting of the organisation field.
func (b *asnBuilder) unquote(f []byte) ([]byte, error) {
	if len(f) == 0 || f[0] != '"' {
		if bytes.IndexByte(f, '"') >= 0 {
			return nil, errors.New(`bare " in an unquoted organisation`)
		}
		return f, nil
	}
	if len(f) < 2 || f[len(f)-1] != '"' {
		return nil, errors.New("unterminated quoted organisation (quoted fields must end on their line)")
	}
	inner := f[1 : len(f)-1]
	if bytes.IndexByte(inner, '"') < 0 {
		return inner, nil
	}
	b.scratch = b.scratch[:0]
	for i := 0; i < len(inner); i++ {
		if inner[i] == '"' {
			if i+1 >= len(inner) || inner[i+1] != '"' {
				return nil, errors.New(`lone " inside a quoted organisation`)
			}
			i++
		}
		b.scratch = append(b.scratch, inner[i])
	}
	return b.scratch, nil
}

// net interns one (ASN, organisation) pair.
func (b *asnBuilder) net(asn uint32, org []byte) uint32 {
	span, ok := b.orgIdx[string(org)] // no allocation for the lookup
	if !ok {
		span[0] = uint32(len(b.orgs))
		b.orgs = append(b.orgs, org...)
		span[1] = uint32(len(b.orgs))
		b.orgIdx[string(org)] = span
	}
	key := netKey{asn, span[0]}
	if b.lastIdx != ^uint32(0) && key == b.last {
		return b.lastIdx
	}
	i, ok := b.netIdx[key]
	if !ok {
		i = uint32(len(b.t.nets))
		b.t.nets = append(b.t.nets, asnNet{asn: asn, orgStart: span[0], orgEnd: span[1]})
		b.netIdx[key] = i
	}
	b.last, b.lastIdx = key, i
	return i
}

// build sorts the rows by start address and returns the compacted table.
// Rows with the same start keep their input order.
func (b *asnBuilder) build() *asnTable {
	t := new(asnTable) // not &b.t: the builder's maps must not stay reachable
	*t = b.t
	sortRows(t.v4start, t.v4end, t.v4net, func(a, b uint32) int { return cmp.Compare(a, b) })
	sortRows(t.v6start, t.v6end, t.v6net, func(a, b u128) int {
		if a.less(b) {
			return -1
		}
		if b.less(a) {
			return 1
		}
		return 0
	})
	t.orgs = string(b.orgs)
	t.v4start, t.v4end, t.v4net = shrink(t.v4start), shrink(t.v4end), shrink(t.v4net)
	t.v6start, t.v6end, t.v6net = shrink(t.v6start), shrink(t.v6end), shrink(t.v6net)
	t.nets = shrink(t.nets)
	t.v4idx, t.v6idx = sample(t.v4start), sample(t.v6start)
	b.t, b.netIdx, b.orgIdx, b.orgs = asnTable{}, nil, nil, nil
	return t
}

// shrink copies s into an array of exactly its length, releasing the slack
// that appending left.
func shrink[T any](s []T) []T {
	out := make([]T, len(s))
	copy(out, s)
	return out
}

// sample returns every asnBlock-th element of s.
func sample[T any](s []T) []T {
	out := make([]T, 0, (len(s)+asnBlock-1)/asnBlock)
	for i := 0; i < len(s); i += asnBlock {
		out = append(out, s[i])
	}
	return out
}

// sortRows sorts three parallel slices by the first, stably. Files are
// normally sorted already, which this detects and skips.
func sortRows[T any](start, end []T, net []uint32, compare func(a, b T) int) {
	if slices.IsSortedFunc(start, compare) {
		return
	}
	idx := make([]int, len(start))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return compare(start[a], start[b]) })
	s2, e2, n2 := make([]T, len(start)), make([]T, len(end)), make([]uint32, len(net))
	for i, j := range idx {
		s2[i], e2[i], n2[i] = start[j], end[j], net[j]
	}
	copy(start, s2)
	copy(end, e2)
	copy(net, n2)
}
