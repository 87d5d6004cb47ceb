package alert

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/dnsscience/dnsscience/internal/check"
	"github.com/dnsscience/dnsscience/internal/monitor"
	"github.com/dnsscience/dnsscience/internal/pgtest"
	"github.com/dnsscience/dnsscience/internal/store"
)

// TestTwoServersOnePostgres: two workers, each with its own connections to
// one PostgreSQL (as two server processes have), deliver every
// notification once, each check's in order.
func TestTwoServersOnePostgres(t *testing.T) {
	t.Parallel()
	u := pgtest.URL(t, "dnss_alert")
	var (
		mu   sync.Mutex
		seen = map[string]int{}
		byCk = map[string][]int{}
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var m struct {
			Check  struct{ ID string }
			Reason string
		}
		json.Unmarshal(b, &m)
		var n int
		fmt.Sscan(m.Reason, &n)
		mu.Lock()
		seen[r.Header.Get("Idempotency-Key")]++
		byCk[m.Check.ID] = append(byCk[m.Check.ID], n)
		mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	ch := &check.Channel{Name: "ops", Type: "webhook", Options: map[string]string{"url": srv.URL}}
	snd, err := Build(ch, loopbackEnv())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var stores [2]*store.Store
	for i := range stores {
		if stores[i], err = store.Open(ctx, u); err != nil {
			t.Fatal(err)
		}
		defer stores[i].Close()
	}
	const checks, per = 10, 6
	var ns []store.Notification
	for i := range per {
		for c := range checks {
			at := t0.Add(time.Duration(i) * time.Minute)
			p, _ := json.Marshal(Message{Version: 1, Event: EventTrigger, Check: CheckInfo{ID: fmt.Sprint("c", c)}, Reason: fmt.Sprint(i)})
			ns = append(ns, store.Notification{Key: Key(fmt.Sprint("c", c), "local", at, EventTrigger, "ops"), CheckID: fmt.Sprint("c", c), Location: "local",
				Channel: "ops", Event: EventTrigger, TransitionAt: at, Payload: p, NextAttempt: t0, CreatedAt: t0})
		}
	}
	if err := stores[0].AddNotifications(ctx, ns); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i, st := range stores {
		w := &Worker{Store: st, Clock: monitor.NewFakeClock(t0.Add(time.Hour)), Owner: fmt.Sprint("server", i), Batch: 4}
		w.SetSenders(map[string]Sender{"ops": snd})
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				n, err := w.DeliverDue(ctx)
				if err != nil {
					t.Error(err)
					return
				}
				if n == 0 {
					return
				}
			}
		}()
	}
	wg.Wait()
	// A worker may see nothing due while the other holds the rest; finish.
	w := &Worker{Store: stores[0], Clock: monitor.NewFakeClock(t0.Add(time.Hour)), Owner: "last"}
	w.SetSenders(map[string]Sender{"ops": snd})
	for {
		n, err := w.DeliverDue(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != checks*per {
		t.Fatalf("%d distinct notifications delivered, want %d", len(seen), checks*per)
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("%s delivered %d times", k, n)
		}
	}
	for c, order := range byCk {
		for i, n := range order {
			if n != i {
				t.Fatalf("check %s delivered in order %v", c, order)
			}
		}
	}
}
