package geo

import (
	"context"
	"errors"
	"time"
)

// Status describes the data in use.
type Status struct {
	LoadedAt time.Time      `json:"loaded_at"`
	Sources  []SourceStatus `json:"sources"`
	// Attributions lists the credits the loaded data's licences require.
	Attributions []Attribution `json:"attributions"`
}

// Status reports every configured file and the attributions the loaded
// ones require.
func (d *DB) Status() Status {
	s := d.snap.Load()
	st := Status{LoadedAt: s.loadedAt, Sources: append([]SourceStatus(nil), s.status...)}
	st.Attributions = s.attributions()
	return st
}

// Attributions lists the credits the loaded data's licences require, once
// each.
func (d *DB) Attributions() []Attribution { return d.snap.Load().attributions() }

func (s *snapshot) attributions() []Attribution {
	seen := map[string]bool{}
	var out []Attribution
	for _, src := range append(append([]*source{}, s.city...), s.asns...) {
		for _, a := range attributionsOf(src.provider) {
			if !seen[a.Text] {
				seen[a.Text] = true
				out = append(out, a)
			}
		}
	}
	return out
}

// Loaded reports whether any location or ASN file, or any operator
// override, is loaded.
func (d *DB) Loaded() bool {
	s := d.snap.Load()
	return len(s.city)+len(s.asns)+len(s.overrides) > 0
}

// Reload re-reads the files that changed on disk since the last load (by
// modification time and size) and swaps the new snapshot in. Files that fail
// to load keep their previous version; their errors are returned joined.
func (d *DB) Reload(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d.reloadMu.Lock()
	defer d.reloadMu.Unlock()
	s, err := load(d.cfg, d.snap.Load())
	d.snap.Store(s)
	return err
}

// changed reports whether any configured file differs from the version the
// current snapshot saw (appeared, disappeared, or was modified).
func (d *DB) changed() bool {
	s := d.snap.Load()
	check := func(role string, paths ...string) bool {
		for _, p := range paths {
			if p == "" {
				continue
			}
			stamp, _ := stampOf(p)
			if seen, ok := s.stamps[stampKey(role, p)]; !ok || seen != stamp {
				return true
			}
		}
		return false
	}
	return check(RoleCity, d.cfg.City...) || check(RoleASN, d.cfg.ASN...) ||
		check(RoleOverrides, d.cfg.Overrides)
}

// Watch polls the configured files every interval (zero means 30 seconds)
// and reloads when one appears or changes, until ctx is done. Reload errors
// go to onError when it is not nil (the previous data stays in use). Replace
// data files by renaming a new file over the old one, not by rewriting them
// in place: an mmdb file is mapped into memory while in use.
func (d *DB) Watch(ctx context.Context, interval time.Duration, onError func(error)) {
	if interval <= 0 {
		interval = 30 * time.Second
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !d.changed() {
			continue
		}
		if err := d.Reload(ctx); err != nil && onError != nil && !errors.Is(err, context.Canceled) {
			onError(err)
		}
	}
}
