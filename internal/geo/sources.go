package geo

import (
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/oschwald/maxminddb-golang/v2"
)

// snapshot is one immutable view of every data file. Lookups load it once
// and use it throughout; reloads build a new one and swap it in. A replaced
// snapshot is never closed explicitly: its mapped files are unmapped by the
// reader's cleanup when the last lookup using it is done, so a swap can
// never pull a file from under a running lookup.
type snapshot struct {
	city      []*source
	asns      []*source
	overrides []Override
	ovSource  *source // the overrides file, for status and stamps
	status    []SourceStatus
	// stamps records the version of every configured file seen by the load
	// (zero for a missing file), so Watch reloads only on a change.
	stamps   map[string]fileStamp
	loadedAt time.Time
}

// source is one data file.
type source struct {
	role     string // RoleCity, RoleASN, RoleOverrides
	path     string
	name     string // base name, reported as the answering source
	provider string // provider* constants, for attribution
	stamp    fileStamp
	reader   *maxminddb.Reader // mmdb files
	ipv4Only bool              // mmdb built with ip_version 4
	table    *asnTable         // CSV files
	ovs      *ovList           // overrides file
	status   SourceStatus
}

// Roles of data files.
const (
	RoleCity      = "city"
	RoleASN       = "asn"
	RoleOverrides = "overrides"
)

// SourceStatus describes one configured data file.
type SourceStatus struct {
	Role     string `json:"role"`
	Path     string `json:"path"`
	Format   string `json:"format,omitempty"`   // mmdb database type, "csv" or "yaml"
	Provider string `json:"provider,omitempty"` // who made the data
	Loaded   bool   `json:"loaded"`
	// BuildTime is the mmdb build time; ModTime the file's modification time.
	BuildTime time.Time `json:"build_time,omitzero"`
	ModTime   time.Time `json:"mod_time,omitzero"`
	// Records counts IPv4+IPv6 ranges (CSV), tree nodes (mmdb) or entries
	// (overrides).
	Records int `json:"records,omitempty"`
	// MemoryBytes is what the file's parsed form holds in the heap (CSV
	// tables); mmdb files are mapped, not copied.
	MemoryBytes int `json:"memory_bytes,omitempty"`
	// Note says why the file is not loaded, or what went wrong on the last
	// reload (the previous version then stays in use).
	Note string `json:"note,omitempty"`
}

// fileStamp identifies one version of a file on disk.
type fileStamp struct {
	mod  time.Time
	size int64
}

func stampOf(path string) (fileStamp, error) {
	st, err := os.Stat(path)
	if err != nil {
		return fileStamp{}, err
	}
	return fileStamp{mod: st.ModTime(), size: st.Size()}, nil
}

// load opens every file in cfg, reusing from prev the sources whose files
// have not changed. A file that is missing is noted; a file that fails to
// load is an error, and when prev had loaded it, prev's version is kept.
func load(cfg Config, prev *snapshot) (*snapshot, error) {
	type job struct {
		role, path string
		stamp      fileStamp
		src        *source
		err        error
	}
	var jobs []*job
	for _, p := range cfg.City {
		jobs = append(jobs, &job{role: RoleCity, path: p})
	}
	for _, p := range cfg.ASN {
		jobs = append(jobs, &job{role: RoleASN, path: p})
	}
	if cfg.Overrides != "" {
		jobs = append(jobs, &job{role: RoleOverrides, path: cfg.Overrides})
	}
	// Files load in parallel: parsing the two ASN CSVs dominates.
	var wg sync.WaitGroup
	for _, j := range jobs {
		wg.Go(func() {
			j.stamp, _ = stampOf(j.path)
			j.src, j.err = loadSource(j.role, j.path, prev.find(j.role, j.path))
		})
	}
	wg.Wait()
	s := &snapshot{loadedAt: time.Now(), stamps: map[string]fileStamp{}}
	var errs []error
	for _, j := range jobs {
		s.stamps[stampKey(j.role, j.path)] = j.stamp
		s.status = append(s.status, j.src.status)
		if j.err != nil {
			errs = append(errs, j.err)
		}
		if !j.src.status.Loaded {
			continue
		}
		switch j.role {
		case RoleCity:
			s.city = append(s.city, j.src)
		case RoleASN:
			s.asns = append(s.asns, j.src)
		case RoleOverrides:
			s.ovSource, s.overrides = j.src, j.src.overridesList()
		}
	}
	return s, errors.Join(errs...)
}

func stampKey(role, path string) string { return role + "\x00" + path }

// find returns prev's source for role and path, if any.
func (s *snapshot) find(role, path string) *source {
	if s == nil {
		return nil
	}
	all := append(append([]*source{}, s.city...), s.asns...)
	if s.ovSource != nil {
		all = append(all, s.ovSource)
	}
	for _, src := range all {
		if src.role == role && src.path == path {
			return src
		}
	}
	return nil
}

// loadSource opens one file, or returns old when the file has not changed.
// The returned source is never nil; its status says whether it is usable.
func loadSource(role, path string, old *source) (*source, error) {
	stamp, err := stampOf(path)
	if errors.Is(err, fs.ErrNotExist) {
		src := &source{role: role, path: path, name: filepath.Base(path)}
		src.status = SourceStatus{Role: role, Path: path, Note: "missing: file not found"}
		return src, nil
	}
	if err == nil && old != nil && old.stamp == stamp {
		return old, nil
	}
	var src *source
	if err == nil {
		src, err = openSource(role, path, stamp)
	}
	if err != nil {
		err = fmt.Errorf("loading %s data %s: %w", role, path, err)
		if old != nil { // keep serving the version we had
			kept := *old
			kept.status.Note = "reload failed, previous version kept: " + err.Error()
			return &kept, err
		}
		src = &source{role: role, path: path, name: filepath.Base(path)}
		src.status = SourceStatus{Role: role, Path: path, Note: err.Error()}
		return src, err
	}
	return src, nil
}

func openSource(role, path string, stamp fileStamp) (*source, error) {
	src := &source{role: role, path: path, name: filepath.Base(path), stamp: stamp}
	src.status = SourceStatus{Role: role, Path: path, ModTime: stamp.mod, Loaded: true}
	switch {
	case role == RoleOverrides:
		return src, src.openOverrides()
	case strings.EqualFold(filepath.Ext(path), ".csv"):
		if role != RoleASN {
			return nil, errors.New("CSV files hold ASN ranges only: pass it as an ASN source")
		}
		return src, src.openCSV()
	default:
		return src, src.openMMDB()
	}
}

func (src *source) openMMDB() error {
	r, err := maxminddb.Open(src.path)
	if err != nil {
		return err
	}
	md := r.Metadata
	src.reader = r
	src.ipv4Only = md.IPVersion == 4
	src.provider = mmdbProvider(md.DatabaseType, src.name)
	src.status.Format = "mmdb " + md.DatabaseType
	src.status.Provider = providerName(src.provider)
	src.status.BuildTime = md.BuildTime().UTC()
	src.status.Records = int(md.NodeCount)
	return nil
}

func (src *source) openCSV() error {
	f, err := os.Open(src.path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if t, err := loadASNCache(src.path, st); err == nil {
		src.table = t
	} else {
		b := newASNBuilder()
		if err := b.readCSV(f); err != nil {
			return err
		}
		src.table = b.build()
		_ = writeASNCache(src.path, st, src.table) // best effort: a read-only directory just parses again next time
	}
	v4, v6 := src.table.rows()
	src.provider = csvProvider(src.name)
	src.status.Format = "csv"
	src.status.Provider = providerName(src.provider)
	src.status.Records = v4 + v6
	src.status.MemoryBytes = src.table.sizeBytes()
	return nil
}

// ovList holds a parsed overrides file in a source.
type ovList struct{ list []Override }

func (src *source) openOverrides() error {
	f, err := os.Open(src.path)
	if err != nil {
		return err
	}
	defer f.Close()
	list, err := ParseOverrides(f)
	if err != nil {
		return err
	}
	src.status.Format = "yaml"
	src.status.Provider = "operator"
	src.status.Records = len(list)
	src.ovs = &ovList{list: list}
	return nil
}

func (src *source) overridesList() []Override {
	if src.ovs == nil {
		return nil
	}
	return src.ovs.list
}

// locate asks the city sources in order; it fills rec from the first that
// has a location for a and returns that source.
func (s *snapshot) locate(a netip.Addr, rec *record, info *Info) *source {
	for _, src := range s.city {
		if a.Is6() && src.ipv4Only {
			continue
		}
		res := src.reader.Lookup(a)
		if !res.Found() {
			continue
		}
		*rec = record{}
		if err := res.Decode(rec); err != nil || !rec.located() {
			continue
		}
		info.Network = res.Prefix()
		return src
	}
	return nil
}

// asn asks the ASN sources in order and fills info from the first that
// knows a; it returns that source's name.
func (s *snapshot) asn(a netip.Addr, rec *record, info *Info) (string, bool) {
	for _, src := range s.asns {
		if src.table != nil {
			if asn, org, ok := src.table.lookup(a); ok && asn != 0 {
				info.ASN, info.ASOrg = asn, org
				return src.name, true
			}
			continue
		}
		if a.Is6() && src.ipv4Only {
			continue
		}
		res := src.reader.Lookup(a)
		if !res.Found() {
			continue
		}
		*rec = record{}
		if err := res.Decode(rec); err != nil || rec.asn == 0 {
			continue
		}
		info.ASN, info.ASOrg, info.ASDomain = rec.asn, rec.asOrg, rec.asDomain
		return src.name, true
	}
	return "", false
}

// close unmaps every mmdb file of the snapshot.
func (s *snapshot) close() error {
	var errs []error
	for _, src := range append(append([]*source{}, s.city...), s.asns...) {
		if src.reader != nil {
			errs = append(errs, src.reader.Close())
		}
	}
	return errors.Join(errs...)
}
