package monitor

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/dnsscience/dnsscience/internal/check"
)

// source is one origin of checks: a suite file (or "api").
type source struct {
	name   string
	suite  string
	checks []*check.Check
	sum    [32]byte // of the file and the files it read
	deps   []string
	err    error           // the last load's error; the checks are the last good ones
	body   json.RawMessage // an API check's definition
}

// SetChecks makes checks the ones of source name (a file), replacing what
// it had, and schedules them. Check ids must be unique across sources.
func (m *Monitor) SetChecks(name, suite string, checks []*check.Check) error {
	if err := m.setSource(&source{name: name, suite: suite, checks: checks}); err != nil {
		return err
	}
	m.apply()
	return nil
}

func (m *Monitor) setSource(src *source) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	owner := map[string]string{}
	for name, s := range m.sources {
		if name == src.name {
			continue
		}
		for _, c := range s.checks {
			owner[c.ID()] = fmt.Sprintf("%s:%d", c.File, c.Line)
		}
	}
	for _, c := range src.checks {
		if at, dup := owner[c.ID()]; dup {
			return fmt.Errorf("%w: %s:%d: check %q has the id %q of the check at %s; rename one", check.ErrSuite, c.File, c.Line, c.Name, c.ID(), at)
		}
	}
	m.sources[src.name] = src
	return nil
}

// Loader loads suite files for a monitor from a file or a directory (its
// *.yaml and *.yml files) and reloads them when they change. A file that
// fails to load keeps its previous checks; the error is kept (ConfigErrors),
// logged and counted.
type Loader struct {
	Monitor *Monitor
	// Path is a suite file or a directory of them.
	Path string
	// Getenv resolves ${NAME}; nil means the environment.
	Getenv func(string) (string, bool)
	// Every is how often files are looked at; 0 means 2 s.
	Every time.Duration
	// OnSuite, when set, is given every suite file parsed before its checks
	// are taken; an error rejects the file as a parse error does (the alert
	// channels are built here).
	OnSuite func(file string, s *check.Suite) error
	// OnGone, when set, is told of a suite file that is no longer there.
	OnGone func(file string)

	mu   sync.Mutex
	errs map[string]error
}

// files lists the suite files under Path.
func (l *Loader) files() ([]string, error) {
	fi, err := os.Stat(l.Path)
	if err != nil {
		return nil, fmt.Errorf("reading checks: %w", err)
	}
	if !fi.IsDir() {
		return []string{l.Path}, nil
	}
	var out []string
	for _, pat := range []string{"*.yaml", "*.yml"} {
		m, _ := filepath.Glob(filepath.Join(l.Path, pat))
		out = append(out, m...)
	}
	sort.Strings(out)
	if len(out) == 0 {
		return nil, fmt.Errorf("reading checks: no *.yaml or *.yml suite files in %s", l.Path)
	}
	return out, nil
}

// Load loads every file; an error names each file that failed (the others
// are loaded). Call it once before Watch.
func (l *Loader) Load() error {
	errs := l.Reload()
	return errors.Join(errs...)
}

// Reload loads the files that changed (new, edited or removed) and returns
// the errors of the files that failed now.
func (l *Loader) Reload() []error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.errs == nil {
		l.errs = map[string]error{}
		l.Monitor.mu.Lock()
		l.Monitor.loader = l
		l.Monitor.mu.Unlock()
	}
	files, err := l.files()
	if err != nil {
		l.errs[l.Path] = err
		l.Monitor.stats.configErrors.Set(float64(len(l.errs)))
		return []error{err}
	}
	delete(l.errs, l.Path)
	var failed []error
	gone := l.removeGone(files)
	changed := len(gone) > 0
	for _, f := range gone {
		if l.OnGone != nil {
			l.OnGone(f)
		}
	}
	for _, f := range files {
		ok, err := l.loadFile(f)
		changed = changed || ok
		if err != nil {
			l.errs[f] = err
			failed = append(failed, err)
			l.Monitor.cfg.Log.Error("loading checks; keeping the previous ones of this file", "file", f, "err", err)
			continue
		}
		delete(l.errs, f)
	}
	l.Monitor.stats.configErrors.Set(float64(len(l.errs)))
	l.Monitor.stats.reloads.Inc()
	if changed {
		l.Monitor.apply()
	}
	return failed
}

// removeGone drops sources whose file is no longer listed, and returns
// those files.
func (l *Loader) removeGone(files []string) []string {
	m := l.Monitor
	m.mu.Lock()
	defer m.mu.Unlock()
	var gone []string
	for name := range m.sources {
		if !strings.HasPrefix(name, apiPrefix) && !contains(files, name) {
			delete(m.sources, name)
			delete(l.errs, name)
			gone = append(gone, name)
		}
	}
	return gone
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// loadFile loads f if its content changed; true when its checks changed.
func (l *Loader) loadFile(f string) (bool, error) {
	data, err := os.ReadFile(f)
	if err != nil {
		return false, fmt.Errorf("reading suite %s: %w", f, err)
	}
	m := l.Monitor
	m.mu.RLock()
	prev := m.sources[f]
	m.mu.RUnlock()
	var deps []string
	if prev != nil {
		deps = prev.deps
	}
	sum := contentSum(data, deps)
	if prev != nil && prev.sum == sum && prev.err == nil {
		return false, nil // unchanged (a failed file is tried again: another file may have been the cause)
	}
	s, err := check.Parse(f, bytes.Clone(data), l.Getenv)
	if err == nil && l.OnSuite != nil {
		err = l.OnSuite(f, s)
	}
	if err != nil {
		if prev != nil {
			m.mu.Lock()
			prev.sum, prev.err = sum, err
			m.mu.Unlock()
		}
		return false, err
	}
	suite := s.Name
	if suite == "" {
		suite = strings.TrimSuffix(filepath.Base(f), filepath.Ext(f))
	}
	if err := m.setSource(&source{name: f, suite: suite, checks: s.Checks, deps: s.Files, sum: contentSum(data, s.Files)}); err != nil {
		return false, err
	}
	return true, nil
}

// contentSum hashes a suite file with the files it read (a missing one
// hashes as empty: the parse reports it).
func contentSum(data []byte, deps []string) [32]byte {
	h := sha256.New()
	h.Write(data)
	for _, d := range deps {
		b, _ := os.ReadFile(d)
		fmt.Fprintf(h, "\x00%s\x00%d\x00", d, len(b))
		h.Write(b)
	}
	var sum [32]byte
	h.Sum(sum[:0])
	return sum
}

// Watch reloads changed files every Every until ctx ends.
func (l *Loader) Watch(ctx context.Context) {
	every := l.Every
	if every <= 0 {
		every = 2 * time.Second
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-l.Monitor.clock.After(every):
			l.Reload()
		}
	}
}

// FileError is a suite file that failed to load.
type FileError struct {
	File  string `json:"file"`
	Error string `json:"error"`
}

// Errors lists the files that failed at the last reload.
func (l *Loader) Errors() []FileError {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []FileError
	for f, err := range l.errs {
		out = append(out, FileError{File: f, Error: err.Error()})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].File < out[j].File })
	return out
}
