package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/dnsscience/dnsscience/internal/dnsq"
	"github.com/dnsscience/dnsscience/internal/measure"
	"github.com/dnsscience/dnsscience/internal/runner"
	"github.com/dnsscience/dnsscience/internal/snapshot"
	"github.com/dnsscience/dnsscience/internal/store"
)

// snapshotRoutes are the routes of stored record snapshots and diffs.
func (s *Server) snapshotRoutes() []route {
	h := s.handle
	return []route{
		{method: "POST", pattern: "/api/v1/snapshots", handler: h(s.postSnapshot)},
		{method: "GET", pattern: "/api/v1/snapshots", handler: h(s.listSnapshots)},
		{method: "GET", pattern: "/api/v1/snapshots/diff", handler: h(s.limited("scan", s.diffSnapshots))},
		{method: "GET", pattern: "/api/v1/snapshots/{id}", handler: h(s.getSnapshot)},
	}
}

// postSnapshot takes a snapshot now (the snapshot kind, through the
// measurement service, so fairness and the target policy apply), stores it
// and answers 201 with the document.
func (s *Server) postSnapshot(w http.ResponseWriter, r *http.Request) error {
	req, err := decodeRequest(r)
	if err != nil {
		return err
	}
	if req.Type != "" && req.Type != "snapshot" {
		return fieldError("type", "%q; leave it out, or give snapshot", req.Type)
	}
	if err := s.rateLimit(w, r, "scan"); err != nil {
		return err
	}
	c, err := s.caller(r)
	if err != nil {
		return err
	}
	s.ensureOwner(w, &c)
	sn, err := s.takeSnapshot(r.Context(), runner.Request{Kind: "snapshot", Target: req.Target, Options: req.Options,
		Locations: req.Locations, ClientID: c.owner, Queue: c.limitKey})
	if err != nil {
		return err
	}
	if err := snapshot.Save(r.Context(), s.store, sn, "api", c.owner); err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/snapshots/"+sn.ID)
	writeJSON(w, http.StatusCreated, sn)
	return nil
}

// takeSnapshot runs a snapshot measurement and waits for its result.
func (s *Server) takeSnapshot(ctx context.Context, req runner.Request) (*snapshot.Snapshot, error) {
	m, err := s.svc.Create(ctx, req)
	if err != nil {
		return nil, serviceError(err)
	}
	_, events, cancel, live := s.svc.Subscribe(m.ID)
	defer cancel()
	for live && events != nil {
		select {
		case _, ok := <-events:
			live = ok
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if m, err = s.svc.Get(ctx, m.ID); err != nil {
		return nil, err
	}
	if m.Status != store.StatusFinished {
		return nil, &Problem{Type: problemBase + "snapshot-failed", Title: "Snapshot failed", Status: http.StatusBadGateway,
			Detail: fmt.Sprintf("snapshot of %s (measurement %s): %s", req.Target, m.ID, m.Error)}
	}
	return snapshot.Parse(m.Result)
}

// snapshotList is the answer of GET /api/v1/snapshots.
type snapshotList struct {
	Snapshots []store.Snapshot `json:"snapshots"`
}

// listSnapshots answers GET /api/v1/snapshots?domain=D&limit=N, newest first.
func (s *Server) listSnapshots(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	domain := ""
	if d := q.Get("domain"); d != "" {
		n, err := dnsq.NormalizeName(d)
		if err != nil {
			return fieldError("domain", "%v", strings.TrimPrefix(err.Error(), "bad domain name: "))
		}
		domain = strings.ToLower(n)
	}
	limit := 50
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > store.MaxSnapshotList {
			return fieldError("limit", "%q; want a number from 1 to %d", l, store.MaxSnapshotList)
		}
		limit = n
	}
	c, err := s.caller(r)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "private, no-store")
	list := []store.Snapshot{}
	if c.owner != "" {
		// No key and no token: nothing of this caller's is stored.
		list, err = s.store.ListSnapshots(r.Context(), store.SnapshotFilter{Domain: domain, ClientID: c.owner, Owned: true, Limit: limit})
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, snapshotList{Snapshots: list})
	return nil
}

// getSnapshot answers GET /api/v1/snapshots/{id} with the document: the
// caller's own snapshots only.
func (s *Server) getSnapshot(w http.ResponseWriter, r *http.Request) error {
	c, err := s.caller(r)
	if err != nil {
		return err
	}
	sn, err := s.loadSnapshot(r.Context(), c, "id", r.PathValue("id"))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "private, no-store")
	writeJSON(w, http.StatusOK, sn)
	return nil
}

// loadSnapshot reads the stored snapshot id if c took it: another
// client's is not found, as an unknown one.
func (s *Server) loadSnapshot(ctx context.Context, c who, field, id string) (*snapshot.Snapshot, error) {
	if id == "" {
		return nil, fieldError(field, "missing; give a stored snapshot's id")
	}
	sn, err := snapshot.LoadOwned(ctx, s.store, id, c.owner)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound(fmt.Sprintf("no snapshot %q", id))
	}
	return sn, err
}

// diffSnapshots answers GET /api/v1/snapshots/diff?a=ID&b=ID|now: the
// changes from a to b. "now" (either side) takes a snapshot like the other
// one, from ?server= or the domain's authoritative servers; serial=true and
// ttl=true compare SOA serials and TTLs too.
func (s *Server) diffSnapshots(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	var o snapshot.DiffOptions
	for _, f := range []struct {
		name string
		v    *bool
	}{{"serial", &o.Serial}, {"ttl", &o.TTL}} {
		if x := q.Get(f.name); x != "" {
			b, err := strconv.ParseBool(x)
			if err != nil {
				return fieldError(f.name, "%q; want true or false", x)
			}
			*f.v = b
		}
	}
	a, b := q.Get("a"), q.Get("b")
	if a == "now" && b == "now" {
		return fieldError("b", "only one of a and b may be now: the other says which domain and names to take")
	}
	c, err := s.caller(r)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "private, no-store")
	sides := map[string]*snapshot.Snapshot{}
	for _, side := range []struct{ field, id string }{{"a", a}, {"b", b}} {
		if side.id == "now" {
			continue
		}
		sn, err := s.loadSnapshot(r.Context(), c, side.field, side.id)
		if err != nil {
			return err
		}
		sides[side.field] = sn
	}
	if a == "now" || b == "now" {
		field, like := "a", sides["b"]
		if b == "now" {
			field, like = "b", sides["a"]
		}
		opts, err := likeOptions(like, q.Get("server"))
		if err != nil {
			return err
		}
		now, err := s.takeSnapshot(r.Context(), runner.Request{Kind: "snapshot", Target: like.Domain, Options: opts,
			ClientID: c.owner, Queue: c.limitKey})
		if err != nil {
			return err
		}
		sides[field] = now
	}
	d, err := snapshot.Compare(sides["a"], sides["b"], o)
	if err != nil {
		return fieldError("b", "%v", err)
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

// likeOptions are the snapshot options that ask what like asked: its
// names (with every type any of them was asked) and no transfer when like
// did not try one.
func likeOptions(like *snapshot.Snapshot, server string) (json.RawMessage, error) {
	o := measure.SnapshotOptions{Server: server}
	if like.Method == snapshot.MethodNames {
		o.NoTransfer = like.TransferError == ""
		seen := map[string]bool{}
		for _, a := range like.Asked {
			o.Names = append(o.Names, a.Name)
			for _, t := range a.Types {
				if !seen[t] {
					seen[t] = true
					o.Types = append(o.Types, t)
				}
			}
		}
	}
	return json.Marshal(o)
}
