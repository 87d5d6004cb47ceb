package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestSnapshots(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, s *Store, _ string) {
		ctx := context.Background()
		if err := s.CreateSnapshot(ctx, &Snapshot{Domain: "a.test.", Method: "axfr", Data: []byte("{")}); !errors.Is(err, ErrInvalid) {
			t.Errorf("CreateSnapshot(bad JSON) = %v, want ErrInvalid", err)
		}
		t0 := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
		var ids []string
		for i, d := range []string{"a.test.", "b.test.", "a.test."} {
			sn := &Snapshot{Domain: d, Method: "axfr", Serial: uint32(4000000000 + i), TakenAt: t0.Add(time.Duration(i) * time.Hour),
				RRsets: i, Records: 2 * i, Source: "cli", ClientID: []string{"key:1", "key:2", "key:1"}[i], Data: []byte(`{"n":` + string(rune('0'+i)) + `}`)}
			if err := s.CreateSnapshot(ctx, sn); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, sn.ID)
		}
		got, err := s.GetSnapshot(ctx, ids[2])
		if err != nil || got.Domain != "a.test." || got.Serial != 4000000002 || string(got.Data) != `{"n":2}` ||
			!got.TakenAt.Equal(t0.Add(2*time.Hour)) || got.Records != 4 || got.Source != "cli" || got.ClientID != "key:1" {
			t.Errorf("GetSnapshot = %+v, %v; want the third snapshot", got, err)
		}
		if _, err := s.GetSnapshot(ctx, "nope"); !errors.Is(err, ErrNotFound) {
			t.Errorf("GetSnapshot(unknown) = %v, want ErrNotFound", err)
		}
		latest, err := s.LatestSnapshot(ctx, "a.test.")
		if err != nil || latest.ID != ids[2] || string(latest.Data) != `{"n":2}` {
			t.Errorf("LatestSnapshot = %+v, %v; want %s", latest, err, ids[2])
		}
		if _, err := s.LatestSnapshot(ctx, "c.test."); !errors.Is(err, ErrNotFound) {
			t.Errorf("LatestSnapshot(none) = %v, want ErrNotFound", err)
		}
		list, err := s.ListSnapshots(ctx, SnapshotFilter{Domain: "a.test."})
		if err != nil || len(list) != 2 || list[0].ID != ids[2] || list[1].ID != ids[0] || list[0].Data != nil {
			t.Errorf("ListSnapshots(a.test.) = %+v, %v; want the two of a.test., newest first, without data", list, err)
		}
		if all, _ := s.ListSnapshots(ctx, SnapshotFilter{Limit: 1}); len(all) != 1 || all[0].ID != ids[2] {
			t.Errorf("ListSnapshots(all, 1) = %+v, want the newest", all)
		}
		if own, _ := s.ListSnapshots(ctx, SnapshotFilter{ClientID: "key:2", Owned: true}); len(own) != 1 || own[0].ID != ids[1] {
			t.Errorf("ListSnapshots(key:2) = %+v, want only key:2's snapshot %s", own, ids[1])
		}
		if own, _ := s.ListSnapshots(ctx, SnapshotFilter{Domain: "b.test.", ClientID: "key:1", Owned: true}); len(own) != 0 {
			t.Errorf("ListSnapshots(b.test., key:1) = %+v, want none (b.test. is key:2's)", own)
		}
		if own, _ := s.ListSnapshots(ctx, SnapshotFilter{Owned: true}); len(own) != 0 {
			t.Errorf("ListSnapshots(owner \"\") = %+v, want none", own)
		}
	})
}
