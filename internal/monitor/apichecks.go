package monitor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/dnsscience/dnsscience/internal/check"
	"github.com/dnsscience/dnsscience/internal/store"
)

// Checks can be created, changed and deleted through the API (CreateCheck,
// ReplaceCheck, PatchCheck, DeleteCheck) with the schema of a check in a
// suite file. They are kept in the store (when it is an APIStore) so they
// survive a restart, and read from it again by SyncAPIChecks, so servers
// sharing a store pick up each other's changes. Checks from files are
// read-only there.

// APIStore keeps the checks made through the API (*store.Store).
type APIStore interface {
	APIChecks(ctx context.Context) ([]store.APICheck, error)
	CreateAPICheck(ctx context.Context, id string, body json.RawMessage) (store.APICheck, error)
	ReplaceAPICheck(ctx context.Context, id string, body json.RawMessage) error
	DeleteAPICheck(ctx context.Context, id string) error
	DeleteMonitorCheck(ctx context.Context, checkID string) error
}

var (
	// ErrReadOnly: the check comes from a suite file; change it there.
	ErrReadOnly = errors.New("check comes from a suite file")
	// ErrExists: a check has that id already.
	ErrExists = errors.New("check exists")
)

const apiPrefix = "api:"

// apiSource is the source name of an API check.
func apiSource(id string) string { return apiPrefix + id }

func (m *Monitor) apiStore() APIStore {
	s, _ := m.cfg.Store.(APIStore)
	return s
}

// parseAPICheck parses a body as an API check.
func parseAPICheck(body []byte) (*check.Check, json.RawMessage, error) {
	c, raw, err := check.ParseCheck("api", body)
	if err != nil {
		return nil, nil, err
	}
	c.File, c.Line = "api", 0
	return c, raw, nil
}

// owner is where check id comes from: "" (none), a file:line, or api.
func (m *Monitor) owner(id string) (src *source, at string) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	for _, s := range m.sources {
		for _, c := range s.checks {
			if c.ID() == id {
				return s, fmt.Sprintf("%s:%d", c.File, c.Line)
			}
		}
	}
	return nil, ""
}

// CreateCheck adds a check given as JSON (or YAML). Errors: a
// *check.FieldError (bad body), ErrExists.
func (m *Monitor) CreateCheck(ctx context.Context, body []byte) (CheckView, error) {
	c, raw, err := parseAPICheck(body)
	if err != nil {
		return CheckView{}, err
	}
	m.amu.Lock()
	defer m.amu.Unlock()
	id := c.ID()
	if src, at := m.owner(id); src != nil {
		return CheckView{}, fmt.Errorf("%w: %q is the id of the check at %s; choose another name", ErrExists, id, at)
	}
	if st := m.apiStore(); st != nil {
		if _, err := st.CreateAPICheck(ctx, id, raw); errors.Is(err, store.ErrExists) {
			return CheckView{}, fmt.Errorf("%w: %q (made by another server on the store)", ErrExists, id)
		} else if err != nil {
			return CheckView{}, err
		}
	}
	return m.putAPI(id, c, raw)
}

// putAPI makes c the check of source api:id and schedules it.
func (m *Monitor) putAPI(id string, c *check.Check, raw json.RawMessage) (CheckView, error) {
	if err := m.setSource(&source{name: apiSource(id), suite: "api", checks: []*check.Check{c}, body: raw}); err != nil {
		return CheckView{}, err
	}
	m.apply()
	return m.Check(id)
}

// apiOwned returns the source of API check id, or ErrNoCheck / ErrReadOnly.
func (m *Monitor) apiOwned(id string) (*source, error) {
	src, at := m.owner(id)
	switch {
	case src == nil:
		return nil, fmt.Errorf("%w: %q", ErrNoCheck, id)
	case !strings.HasPrefix(src.name, apiPrefix):
		return nil, fmt.Errorf("%w: %q is defined at %s; edit that file (it is reloaded)", ErrReadOnly, id, at)
	}
	return src, nil
}

// ReplaceCheck replaces API check id with body; its name must keep the
// id (history is kept by id).
func (m *Monitor) ReplaceCheck(ctx context.Context, id string, body []byte) (CheckView, error) {
	m.amu.Lock()
	defer m.amu.Unlock()
	if _, err := m.apiOwned(id); err != nil {
		return CheckView{}, err
	}
	return m.replace(ctx, id, body)
}

func (m *Monitor) replace(ctx context.Context, id string, body []byte) (CheckView, error) {
	c, raw, err := parseAPICheck(body)
	if err != nil {
		return CheckView{}, err
	}
	if c.ID() != id {
		return CheckView{}, fmt.Errorf("%w: %w", check.ErrCheck, &check.FieldError{Field: "name",
			Detail: fmt.Sprintf("the name %q has the id %q, not %q: a check keeps its id (and history); delete it and create another to rename", c.Name, c.ID(), id)})
	}
	if st := m.apiStore(); st != nil {
		if err := st.ReplaceAPICheck(ctx, id, raw); errors.Is(err, store.ErrNotFound) {
			return CheckView{}, fmt.Errorf("%w: %q (deleted by another server on the store)", ErrNoCheck, id)
		} else if err != nil {
			return CheckView{}, err
		}
	}
	return m.putAPI(id, c, raw)
}

// PatchCheck changes API check id by a JSON merge patch (RFC 7396) of its
// definition: keys given replace the check's, null removes one.
func (m *Monitor) PatchCheck(ctx context.Context, id string, patch []byte) (CheckView, error) {
	m.amu.Lock()
	defer m.amu.Unlock()
	src, err := m.apiOwned(id)
	if err != nil {
		return CheckView{}, err
	}
	var p any
	if err := json.Unmarshal(patch, &p); err != nil {
		return CheckView{}, fmt.Errorf("%w: %w", check.ErrCheck, &check.FieldError{Detail: "the patch is not JSON: " + err.Error()})
	}
	var cur any
	if err := json.Unmarshal(src.body, &cur); err != nil {
		return CheckView{}, fmt.Errorf("reading check %s: %w", id, err)
	}
	merged, err := json.Marshal(mergePatch(cur, p))
	if err != nil {
		return CheckView{}, err
	}
	return m.replace(ctx, id, merged)
}

// mergePatch applies an RFC 7396 merge patch to target.
func mergePatch(target, patch any) any {
	p, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	t, ok := target.(map[string]any)
	if !ok {
		t = map[string]any{}
	}
	for k, v := range p {
		if v == nil {
			delete(t, k)
			continue
		}
		t[k] = mergePatch(t[k], v)
	}
	return t
}

// DeleteCheck stops watching API check id and deletes it with its history.
func (m *Monitor) DeleteCheck(ctx context.Context, id string) error {
	m.amu.Lock()
	defer m.amu.Unlock()
	if _, err := m.apiOwned(id); err != nil {
		return err
	}
	m.mu.Lock()
	src := m.sources[apiSource(id)]
	delete(m.sources, apiSource(id))
	m.mu.Unlock()
	m.apply()
	m.forget(id)
	if st := m.apiStore(); st != nil {
		// After any batch being written (it may hold the check's last
		// runs); the history first, so a failure leaves the check to
		// delete again rather than history without a check.
		m.fmu.Lock()
		err := st.DeleteMonitorCheck(ctx, id)
		if err == nil {
			if err = st.DeleteAPICheck(ctx, id); errors.Is(err, store.ErrNotFound) {
				err = nil
			}
		}
		m.fmu.Unlock()
		if err != nil {
			m.mu.Lock()
			m.sources[apiSource(id)] = src // still stored: still watched
			m.mu.Unlock()
			m.apply()
			return err
		}
	}
	m.mu.Lock()
	delete(m.restored, id)
	m.mu.Unlock()
	return nil
}

// Definition is an API check's definition (its JSON body as stored); nil
// for a check from a file.
func (m *Monitor) Definition(id string) json.RawMessage {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if src := m.sources[apiSource(id)]; src != nil {
		return src.body
	}
	return nil
}

// SyncAPIChecks makes the API checks those of the store: new and changed
// ones are loaded, deleted ones dropped. A stored check that no longer
// loads (this binary refuses what an older one took) keeps its previous
// form if it had one, and is listed by ConfigErrors.
func (m *Monitor) SyncAPIChecks(ctx context.Context) error {
	st := m.apiStore()
	if st == nil {
		return nil
	}
	m.amu.Lock()
	defer m.amu.Unlock()
	rows, err := st.APIChecks(ctx)
	if err != nil {
		return fmt.Errorf("reading API checks: %w", err)
	}
	want := map[string]bool{}
	changed := false
	errs := map[string]error{}
	for _, r := range rows {
		want[apiSource(r.ID)] = true
		m.mu.RLock()
		cur := m.sources[apiSource(r.ID)]
		m.mu.RUnlock()
		if cur != nil && bytes.Equal(cur.body, r.Body) {
			continue
		}
		c, raw, err := parseAPICheck(r.Body)
		if err == nil && c.ID() != r.ID {
			err = fmt.Errorf("stored under id %q but named %q", r.ID, c.Name)
		}
		if err == nil {
			err = m.setSource(&source{name: apiSource(r.ID), suite: "api", checks: []*check.Check{c}, body: raw})
		}
		if err != nil {
			errs[apiSource(r.ID)] = err
			continue
		}
		changed = true
	}
	m.mu.Lock()
	for name := range m.sources {
		if strings.HasPrefix(name, apiPrefix) && !want[name] {
			delete(m.sources, name)
			changed = true
		}
	}
	m.apiErrs = errs
	m.mu.Unlock()
	if changed {
		m.apply()
	}
	return nil
}

// apiErrors lists the stored API checks that failed to load.
func (m *Monitor) apiErrors() []FileError {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []FileError
	for name, err := range m.apiErrs {
		out = append(out, FileError{File: name, Error: err.Error()})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].File < out[j].File })
	return out
}
