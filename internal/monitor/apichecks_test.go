package monitor

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dnsscience/dnsscience/internal/check"
	"github.com/dnsscience/dnsscience/internal/store/storetest"
)

func TestAPIChecksPersistAndSync(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, u string) {
		ctx := context.Background()
		st := storetest.Open(t, u)
		a := New(Config{Store: st})
		s, err := check.Parse("web.yaml", []byte("checks:\n  - {name: web, kind: dns, target: example.com}\n"), nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := a.SetChecks("web.yaml", "web", s.Checks); err != nil {
			t.Fatal(err)
		}
		v, err := a.CreateCheck(ctx, []byte(`{"name": "API One", "kind": "dns", "target": "example.org", "interval": "30s", "group": "g"}`))
		if err != nil || v.ID != "api-one" || v.Origin != "api" || v.Status != StatusPending || v.IntervalSeconds != 30 || len(v.Definition) == 0 {
			t.Fatalf("create = %+v, %v", v, err)
		}
		if _, err := a.CreateCheck(ctx, []byte(`{"name": "api one", "kind": "dns", "target": "example.net"}`)); !errors.Is(err, ErrExists) {
			t.Errorf("create of a taken id = %v, want ErrExists", err)
		}
		if _, err := a.CreateCheck(ctx, []byte(`{"name": "WEB", "kind": "dns", "target": "example.net"}`)); !errors.Is(err, ErrExists) || !strings.Contains(err.Error(), "web.yaml:2") {
			t.Errorf("create with a file check's id = %v, want ErrExists naming web.yaml:2", err)
		}
		for name, err := range map[string]error{
			"replace": func() error {
				_, err := a.ReplaceCheck(ctx, "web", []byte(`{"name": "web", "kind": "dns", "target": "x.example"}`))
				return err
			}(),
			"patch":  func() error { _, err := a.PatchCheck(ctx, "web", []byte(`{"target": "x.example"}`)); return err }(),
			"delete": a.DeleteCheck(ctx, "web"),
		} {
			if !errors.Is(err, ErrReadOnly) || !strings.Contains(err.Error(), "web.yaml") {
				t.Errorf("%s of a file's check = %v; want ErrReadOnly naming the file", name, err)
			}
		}
		if err := a.DeleteCheck(ctx, "nope"); !errors.Is(err, ErrNoCheck) {
			t.Errorf("delete of no check = %v, want ErrNoCheck", err)
		}
		_, err = a.PatchCheck(ctx, "api-one", []byte(`{"name": "renamed"}`))
		var fe *check.FieldError
		if !errors.As(err, &fe) || fe.Field != "name" {
			t.Errorf("rename = %v; want a FieldError on name", err)
		}
		_, err = a.PatchCheck(ctx, "api-one", []byte(`{"interval": "1ms"}`))
		if !errors.As(err, &fe) || fe.Field != "interval" {
			t.Errorf("patch with a bad interval = %v; want a FieldError on interval", err)
		}

		// A restart (another monitor on the store) has the check.
		b := New(Config{Store: storetest.Open(t, u)})
		if err := b.SyncAPIChecks(ctx); err != nil {
			t.Fatal(err)
		}
		got, err := b.Check("api-one")
		if err != nil || got.Target != "example.org" || got.Group != "g" || got.Origin != "api" {
			t.Fatalf("after restart: %+v, %v", got, err)
		}
		// A change on one is picked up by the other without a restart.
		if v, err = a.PatchCheck(ctx, "api-one", []byte(`{"target": "example.net", "group": null, "labels": {"team": "dns"}}`)); err != nil || v.Target != "example.net" || v.Group != "" {
			t.Fatalf("patch = %+v, %v", v, err)
		}
		if err := b.SyncAPIChecks(ctx); err != nil {
			t.Fatal(err)
		}
		if got, _ := b.Check("api-one"); got.Target != "example.net" || got.Labels["team"] != "dns" || got.Group != "" {
			t.Errorf("synced after patch: %+v", got)
		}
		if err := a.DeleteCheck(ctx, "api-one"); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Check("api-one"); !errors.Is(err, ErrNoCheck) {
			t.Errorf("deleted check still there: %v", err)
		}
		if err := b.SyncAPIChecks(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Check("api-one"); !errors.Is(err, ErrNoCheck) {
			t.Errorf("deleted check still watched by the other monitor: %v", err)
		}
		if n := len(b.Checks()); n != 0 {
			t.Errorf("%d checks left on the other monitor, want 0", n)
		}
	})
}

// TestDeletedCheckLeavesNoHistory: a run that finishes after its check was
// deleted, and runs pending when it was, are not written back: no state,
// result or rollup row outlives the deletion.
func TestDeletedCheckLeavesNoHistory(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, u string) {
		ctx := context.Background()
		st := storetest.Open(t, u)
		m := New(Config{Store: st})
		if _, err := m.CreateCheck(ctx, []byte(`{"name": "gone", "kind": "dns", "target": "example.org"}`)); err != nil {
			t.Fatal(err)
		}
		w := m.lookup("gone")
		at := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
		fail := check.Result{Error: "refused"}
		m.record(w, w.c, Job{ID: "gone", Scheduled: at, Started: at}, fail) // written
		if err := m.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		m.record(w, w.c, Job{ID: "gone", Scheduled: at.Add(time.Second), Started: at.Add(time.Second)}, fail) // pending at deletion
		if err := m.DeleteCheck(ctx, "gone"); err != nil {
			t.Fatal(err)
		}
		m.record(w, w.c, Job{ID: "gone", Scheduled: at.Add(2 * time.Second), Started: at.Add(2 * time.Second)}, fail) // in flight at deletion
		if err := m.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		states, err := st.MonitorStates(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range states {
			if s.CheckID == "gone" {
				t.Errorf("state row of the deleted check: %+v", s)
			}
		}
		if rs, err := st.MonitorResults(ctx, "gone", time.Time{}, 10, false); err != nil || len(rs) != 0 {
			t.Errorf("results of the deleted check: %d, %v", len(rs), err)
		}
		if rs, err := st.MonitorRollups(ctx, "gone", "minute", at.Add(-time.Hour), at.Add(time.Hour)); err != nil || len(rs) != 0 {
			t.Errorf("rollups of the deleted check: %d, %v", len(rs), err)
		}
		if _, err := m.Check("gone"); !errors.Is(err, ErrNoCheck) {
			t.Errorf("deleted check still watched: %v", err)
		}
	})
}
