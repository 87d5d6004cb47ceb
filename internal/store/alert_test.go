package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

func note(check, key string, at time.Time) Notification {
	return Notification{Key: key, CheckID: check, Location: "local", Channel: "ops", Event: "trigger", TransitionAt: at,
		Payload: json.RawMessage(`{"to":"down"}`), NextAttempt: at, CreatedAt: at}
}

func TestOutbox(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, s *Store, _ string) {
		ctx := context.Background()
		t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
		// The notification goes in with the state change, in one batch.
		batch := &MonitorBatch{Transitions: []CheckTransition{{CheckID: "web", Location: "local", At: t0, From: "up", To: "down"}},
			Notifications: []Notification{note("web", "k1", t0), note("web", "k2", t0.Add(time.Second)), note("dns", "k3", t0)}}
		if err := s.SaveMonitor(ctx, batch); err != nil {
			t.Fatal(err)
		}
		// The same key again is no new notification.
		if err := s.AddNotifications(ctx, []Notification{note("web", "k1", t0)}); err != nil {
			t.Fatal(err)
		}
		got, err := s.ClaimNotifications(ctx, t0.Add(time.Minute), time.Minute, "a", 10)
		if err != nil {
			t.Fatal(err)
		}
		// k2 waits for k1 (same check and channel): deliveries keep their order.
		if len(got) != 2 || got[0].Key != "k1" || got[1].Key != "k3" || string(got[0].Payload) != `{"to":"down"}` {
			t.Fatalf("claimed %+v", got)
		}
		// Leased: nobody else gets them until the lease ends.
		if again, _ := s.ClaimNotifications(ctx, t0.Add(90*time.Second), time.Minute, "b", 10); len(again) != 0 {
			t.Fatalf("claimed during the lease: %+v", again)
		}
		// The lease ran out (worker killed): another worker takes k1.
		again, err := s.ClaimNotifications(ctx, t0.Add(3*time.Minute), time.Minute, "b", 10)
		if err != nil || len(again) != 2 || again[0].Key != "k1" {
			t.Fatalf("after the lease: %+v %v", again, err)
		}
		// The first owner lost its lease; its update is refused.
		if err := s.FinishNotification(ctx, got[0].Seq, "a", NotificationUpdate{Status: NoteDelivered}); !errors.Is(err, ErrNotFound) {
			t.Fatalf("stale owner: %v", err)
		}
		if err := s.FinishNotification(ctx, again[0].Seq, "b", NotificationUpdate{Status: NoteDelivered, Attempts: 1, DeliveredAt: t0.Add(3 * time.Minute)}); err != nil {
			t.Fatal(err)
		}
		if err := s.FinishNotification(ctx, again[1].Seq, "b", NotificationUpdate{Status: NotePending, Attempts: 1, NextAttempt: t0.Add(time.Hour), LastError: "503"}); err != nil {
			t.Fatal(err)
		}
		// k1 delivered: k2 is next; k3 waits for its retry time.
		next, err := s.ClaimNotifications(ctx, t0.Add(4*time.Minute), time.Minute, "a", 10)
		if err != nil || len(next) != 1 || next[0].Key != "k2" {
			t.Fatalf("next %+v %v", next, err)
		}
		if err := s.FinishNotification(ctx, next[0].Seq, "a", NotificationUpdate{Status: NoteDead, Attempts: 9, LastError: "gave up"}); err != nil {
			t.Fatal(err)
		}
		dead, err := s.DeadNotifications(ctx, 10)
		if err != nil || len(dead) != 1 || dead[0].Key != "k2" || dead[0].LastError != "gave up" {
			t.Fatalf("dead %+v %v", dead, err)
		}
		if err := s.RetryNotification(ctx, dead[0].Seq, t0.Add(5*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := s.RetryNotification(ctx, dead[0].Seq, t0); !errors.Is(err, ErrNotFound) {
			t.Fatalf("retrying a pending one: %v", err)
		}
		list, err := s.Notifications(ctx, "web", 10)
		if err != nil || len(list) != 2 || list[0].Key != "k2" || list[0].Status != NotePending || list[0].Attempts != 0 ||
			list[1].Status != NoteDelivered || !list[1].DeliveredAt.Equal(t0.Add(3*time.Minute)) {
			t.Fatalf("list %+v %v", list, err)
		}
		// Pruning keeps what is pending.
		if n, err := s.PruneNotifications(ctx, t0.Add(time.Hour)); err != nil || n != 1 {
			t.Fatalf("pruned %d, %v; want the delivered one", n, err)
		}
		if list, _ := s.Notifications(ctx, "web", 10); len(list) != 1 || list[0].Key != "k2" {
			t.Fatalf("after pruning %+v", list)
		}
	})
}

// TestOutboxClaimsDisjoint: workers claiming at once never get the same row.
func TestOutboxClaimsDisjoint(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, s *Store, _ string) {
		ctx := context.Background()
		t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
		var ns []Notification
		for i := range 60 {
			ns = append(ns, note(fmt.Sprintf("c%d", i), fmt.Sprintf("k%d", i), t0))
		}
		if err := s.AddNotifications(ctx, ns); err != nil {
			t.Fatal(err)
		}
		var (
			mu   sync.Mutex
			seen = map[string]string{}
			wg   sync.WaitGroup
		)
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				owner := fmt.Sprintf("w%d", w)
				for {
					got, err := s.ClaimNotifications(ctx, t0, time.Hour, owner, 3)
					if err != nil {
						t.Error(err)
						return
					}
					if len(got) == 0 {
						return
					}
					mu.Lock()
					for _, n := range got {
						if prev, dup := seen[n.Key]; dup {
							t.Errorf("%s claimed by %s and %s", n.Key, prev, owner)
						}
						seen[n.Key] = owner
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if len(seen) != 60 {
			t.Fatalf("claimed %d of 60", len(seen))
		}
	})
}

func TestSilences(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, s *Store, _ string) {
		ctx := context.Background()
		t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
		if _, err := s.AddSilence(ctx, Silence{CheckID: "web"}); !errors.Is(err, ErrInvalid) {
			t.Fatalf("no expiry: %v", err)
		}
		a, err := s.AddSilence(ctx, Silence{CheckID: "web", Reason: "deploy", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.AddSilence(ctx, Silence{Channel: "ops", CreatedAt: t0, ExpiresAt: t0.Add(time.Minute)}); err != nil {
			t.Fatal(err)
		}
		got, err := s.Silences(ctx, t0.Add(2*time.Minute))
		if err != nil || len(got) != 1 || got[0].ID != a.ID || !got[0].Matches("web", "any", t0) || got[0].Matches("dns", "any", t0) {
			t.Fatalf("silences %+v %v", got, err)
		}
		if err := s.DeleteSilence(ctx, a.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteSilence(ctx, a.ID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("deleting twice: %v", err)
		}
	})
}
