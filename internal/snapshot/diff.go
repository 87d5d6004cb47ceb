package snapshot

import (
	"fmt"
	"slices"
	"time"
)

// DiffOptions say what noise a diff keeps.
type DiffOptions struct {
	// Serial compares SOA serials; by default a SOA whose serial alone
	// changed is unchanged (every edit bumps it).
	Serial bool `json:"serial"`
	// TTL compares TTLs; by default TTLs are left out (a resolver counts
	// them down, so two looks at the same records differ).
	TTL bool `json:"ttl"`
}

// Change ops.
const (
	Added   = "added"
	Removed = "removed"
	Changed = "changed"
)

// Change is one RRset that differs.
type Change struct {
	Op   string `json:"op"`
	Name string `json:"name"`
	Type string `json:"type"`
	// Old is the RRset in A (removed and changed), New in B (added and
	// changed).
	Old *RRset `json:"old,omitempty"`
	New *RRset `json:"new,omitempty"`
	// Added and Removed are the records of a changed RRset only in B or
	// only in A; both empty when only the TTL (or serial) changed.
	Added   []string `json:"added,omitempty"`
	Removed []string `json:"removed,omitempty"`
}

// Side sums up one snapshot of a diff.
type Side struct {
	ID      string    `json:"id,omitempty"`
	TakenAt time.Time `json:"taken_at"`
	Method  string    `json:"method"`
	Server  string    `json:"server"`
	Serial  uint32    `json:"serial"`
	RRsets  int       `json:"rrsets"`
	Records int       `json:"records"`
}

// Diff is what changed from snapshot A to snapshot B.
type Diff struct {
	Domain  string      `json:"domain"`
	A       Side        `json:"a"`
	B       Side        `json:"b"`
	Options DiffOptions `json:"options"`
	// Equal is true when nothing differs.
	Equal   bool `json:"equal"`
	Added   int  `json:"added"`
	Removed int  `json:"removed"`
	Changed int  `json:"changed"`
	// Partial says that one side asked names only: RRsets the other
	// side has outside those questions are not compared.
	Partial bool     `json:"partial,omitempty"`
	Changes []Change `json:"changes"`
}

func side(s *Snapshot) Side {
	return Side{ID: s.ID, TakenAt: s.TakenAt, Method: s.Method, Server: s.Server, Serial: s.Serial, RRsets: len(s.RRsets), Records: s.Records()}
}

// Compare returns the changes from a to b. Snapshots of different domains
// are not compared.
func Compare(a, b *Snapshot, o DiffOptions) (*Diff, error) {
	if a.Domain != b.Domain {
		return nil, fmt.Errorf("the snapshots are of %s and %s; a diff compares two snapshots of one domain", a.Domain, b.Domain)
	}
	d := &Diff{Domain: a.Domain, A: side(a), B: side(b), Options: o, Changes: []Change{},
		Partial: a.Method == MethodNames || b.Method == MethodNames}
	old := index(a, b)
	nw := index(b, a)
	for k, rs := range old {
		n, ok := nw[k]
		if !ok {
			d.Changes = append(d.Changes, Change{Op: Removed, Name: rs.Name, Type: rs.Type, Old: rs})
			continue
		}
		if c, differ := compareSets(rs, n, o); differ {
			d.Changes = append(d.Changes, c)
		}
	}
	for k, rs := range nw {
		if _, ok := old[k]; !ok {
			d.Changes = append(d.Changes, Change{Op: Added, Name: rs.Name, Type: rs.Type, New: rs})
		}
	}
	slices.SortFunc(d.Changes, func(x, y Change) int {
		return compareKeys(x.Name, x.Type, y.Name, y.Type)
	})
	for _, c := range d.Changes {
		switch c.Op {
		case Added:
			d.Added++
		case Removed:
			d.Removed++
		case Changed:
			d.Changed++
		}
	}
	d.Equal = len(d.Changes) == 0
	return d, nil
}

// index maps s's RRsets by name and type, keeping only those the other
// snapshot covers (a names snapshot covers only what it asked).
func index(s, other *Snapshot) map[[2]string]*RRset {
	m := make(map[[2]string]*RRset, len(s.RRsets))
	for i := range s.RRsets {
		rs := &s.RRsets[i]
		if other.covers(rs.Name, rs.Type) && s.covers(rs.Name, rs.Type) {
			m[[2]string{rs.Name, rs.Type}] = rs
		}
	}
	return m
}

// compareSets compares one RRset in both snapshots.
func compareSets(a, b *RRset, o DiffOptions) (Change, bool) {
	c := Change{Op: Changed, Name: a.Name, Type: a.Type, Old: a, New: b}
	for _, x := range b.Data {
		if !slices.Contains(a.Data, x) {
			c.Added = append(c.Added, x)
		}
	}
	for _, x := range a.Data {
		if !slices.Contains(b.Data, x) {
			c.Removed = append(c.Removed, x)
		}
	}
	differ := len(c.Added) > 0 || len(c.Removed) > 0
	if differ && a.Type == "SOA" && !o.Serial && len(a.Data) == 1 && len(b.Data) == 1 {
		differ = withoutSerial(a.Name, a.Data[0]) != withoutSerial(b.Name, b.Data[0])
	}
	if o.TTL && a.TTL != b.TTL {
		differ = true
	}
	return c, differ
}

// withoutSerial is a SOA's data with the serial set to 0.
func withoutSerial(name, data string) string {
	soa, ok := parseSOA(name, data)
	if !ok {
		return data
	}
	soa.Serial = 0
	return soa.String()
}
