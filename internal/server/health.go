package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"runtime"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/dnsscience/dnsscience/internal/traceroute"
)

// ReadyCheck is one readiness check: a name and a function that returns
// nil when the part it checks is usable.
type ReadyCheck struct {
	Name  string
	Check func(ctx context.Context) error
}

// CheckResult is one entry of /ready.
type CheckResult struct {
	Name   string  `json:"name"`
	Status string  `json:"status"` // ok or fail
	Detail string  `json:"detail,omitempty"`
	TookMs float64 `json:"took_ms"`
}

// getHealth answers GET /health: the process is alive.
func (s *Server) getHealth(w http.ResponseWriter, _ *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]any{
		"status": "ok", "version": s.cfg.Version, "uptime_s": int(s.cfg.Now().Sub(s.started).Seconds()),
	})
	return nil
}

// getReady answers GET /ready: every check passes (200) or one fails
// (503). Only an admin key sees the checks and their details (which name
// hosts, users and paths); anyone else gets the status alone, and the
// traceroute check (which sends a probe) runs for the admin only.
func (s *Server) getReady(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	// A key that cannot be checked (the database is down) sees the status.
	k, _ := s.lookupKey(r)
	admin := k != nil && k.Admin
	checks := s.readyChecks(admin)
	results := make([]CheckResult, len(checks))
	var wg sync.WaitGroup
	for i, c := range checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			err := c.Check(ctx)
			res := CheckResult{Name: c.Name, Status: "ok", TookMs: float64(time.Since(start).Microseconds()) / 1000}
			if err != nil {
				res.Status, res.Detail = "fail", err.Error()
			}
			results[i] = res
		}()
	}
	wg.Wait()
	status, code := "ok", http.StatusOK
	for _, res := range results {
		if res.Status != "ok" {
			status, code = "fail", http.StatusServiceUnavailable
		}
	}
	if !admin {
		writeJSON(w, code, map[string]any{"status": status})
		return nil
	}
	writeJSON(w, code, map[string]any{"status": status, "checks": results})
	return nil
}

// readyChecks are the built-in checks plus those of the dependencies;
// withTrace adds the traceroute check.
func (s *Server) readyChecks(withTrace bool) []ReadyCheck {
	checks := []ReadyCheck{
		{Name: "memory", Check: func(context.Context) error {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			if s.cfg.MaxHeapBytes > 0 && m.HeapAlloc > s.cfg.MaxHeapBytes {
				return fmt.Errorf("heap %d MiB above the %d MiB ceiling", m.HeapAlloc>>20, s.cfg.MaxHeapBytes>>20)
			}
			return nil
		}},
	}
	if withTrace {
		checks = append(checks, ReadyCheck{Name: "traceroute", Check: s.traceReady})
	}
	if s.cfg.DataDir != "" {
		checks = append(checks, ReadyCheck{Name: "disk", Check: func(context.Context) error { return s.diskFree() }})
	}
	return append(checks, s.cfg.ReadyChecks...)
}

// diskFree fails when the data directory's file system has less free space
// than the floor.
func (s *Server) diskFree() error {
	var st unix.Statfs_t
	if err := unix.Statfs(s.cfg.DataDir, &st); err != nil {
		return fmt.Errorf("checking free space in %s: %w", s.cfg.DataDir, err)
	}
	free := st.Bavail * uint64(st.Bsize)
	floor := s.cfg.MinFreeBytes
	if floor == 0 {
		floor = 100 << 20
	}
	if free < floor {
		return fmt.Errorf("%d MiB free in %s, below the %d MiB floor", free>>20, s.cfg.DataDir, floor>>20)
	}
	return nil
}

// getLocations answers GET /api/v1/locations: every location with its
// real state (a location without a way to run is offline, with the reason).
func (s *Server) getLocations(w http.ResponseWriter, _ *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]any{"locations": s.svc.Locations()})
	return nil
}

// getRemoteLocations answers the legacy GET /api/remote-locations (the old
// platform's shape, plus status; lat and lon are null when unknown).
func (s *Server) getRemoteLocations(w http.ResponseWriter, _ *http.Request) error {
	type legacy struct {
		ID       string   `json:"id"`
		Name     string   `json:"name"`
		Provider string   `json:"provider"`
		Lat      *float64 `json:"lat"`
		Lon      *float64 `json:"lon"`
		Endpoint string   `json:"endpoint"`
		Status   string   `json:"status"`
	}
	locs := s.svc.Locations()
	out := make([]legacy, 0, len(locs))
	for _, l := range locs {
		out = append(out, legacy{ID: l.ID, Name: l.Name, Provider: l.Provider, Lat: l.Latitude, Lon: l.Longitude, Endpoint: l.Endpoint, Status: l.Status})
	}
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "locations": out})
	return nil
}

// traceReady sends one probe to the loopback address: it fails when the
// process may open no socket kind a trace needs, and says what to run.
func (s *Server) traceReady(ctx context.Context) error {
	_, err := s.tracer.Trace(ctx, traceroute.Request{Target: netip.MustParseAddr("127.0.0.1"), MaxHops: 1, Queries: 1, Timeout: 500 * time.Millisecond})
	if errors.Is(err, traceroute.ErrPermission) {
		return err
	}
	return nil
}
