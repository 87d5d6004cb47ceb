package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"
)

func TestMeasurementCRUD(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store, _ string) {
		ctx := context.Background()
		m := &Measurement{Type: "dns", Target: "example.com", Options: json.RawMessage(`{"type": "AAAA"}`),
			Locations: []string{"local", "fra"}, ClientID: "203.0.113.9"}
		if err := s.CreateMeasurement(ctx, m); err != nil {
			t.Fatalf("CreateMeasurement: %v", err)
		}
		if len(m.ID) != 26 || m.CreatedAt.IsZero() || m.Status != StatusQueued {
			t.Fatalf("after create: id %q, created %v, status %q; want a 26-char id, a time, queued", m.ID, m.CreatedAt, m.Status)
		}
		got, err := s.GetMeasurement(ctx, m.ID)
		if err != nil {
			t.Fatalf("GetMeasurement: %v", err)
		}
		if !reflect.DeepEqual(got, m) {
			t.Errorf("GetMeasurement = %+v, want %+v", got, m)
		}

		m.Status, m.StartedAt = StatusRunning, time.Now()
		if err := s.UpdateMeasurement(ctx, m); err != nil {
			t.Fatalf("UpdateMeasurement: %v", err)
		}
		m.Status, m.FinishedAt = StatusFinished, time.Now()
		m.Result = json.RawMessage(`{"answers": ["2001:db8::1"], "rtt_ms": 1.5}`)
		if err := s.UpdateMeasurement(ctx, m); err != nil {
			t.Fatalf("UpdateMeasurement: %v", err)
		}
		got, err = s.GetMeasurement(ctx, m.ID)
		if err != nil {
			t.Fatalf("GetMeasurement: %v", err)
		}
		if !reflect.DeepEqual(got, m) {
			t.Errorf("after update GetMeasurement = %+v, want %+v", got, m)
		}
		if string(got.Result) != `{"answers": ["2001:db8::1"], "rtt_ms": 1.5}` {
			t.Errorf("result = %s, want it byte for byte as stored", got.Result)
		}
	})
}

func TestMeasurementNotFound(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store, _ string) {
		ctx := context.Background()
		if _, err := s.GetMeasurement(ctx, "nosuchid"); !errors.Is(err, ErrNotFound) {
			t.Errorf("GetMeasurement(unknown) error = %v, want ErrNotFound", err)
		}
		err := s.UpdateMeasurement(ctx, &Measurement{ID: "nosuchid", Status: StatusFailed})
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("UpdateMeasurement(unknown) error = %v, want ErrNotFound", err)
		}
	})
}

func TestMeasurementInvalid(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store, _ string) {
		ctx := context.Background()
		for name, m := range map[string]*Measurement{
			"no type":        {Target: "example.com"},
			"no target":      {Type: "dns"},
			"unknown status": {Type: "dns", Target: "example.com", Status: "done"},
			"bad options":    {Type: "dns", Target: "example.com", Options: json.RawMessage(`{`)},
		} {
			if err := s.CreateMeasurement(ctx, m); !errors.Is(err, ErrInvalid) {
				t.Errorf("%s: CreateMeasurement error = %v, want ErrInvalid", name, err)
			}
		}
		m := &Measurement{Type: "dns", Target: "example.com"}
		if err := s.CreateMeasurement(ctx, m); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateMeasurement(ctx, m); err == nil {
			t.Error("creating a measurement with an existing id succeeded, want an error")
		}
		m.Status = "bogus"
		if err := s.UpdateMeasurement(ctx, m); !errors.Is(err, ErrInvalid) {
			t.Errorf("UpdateMeasurement(status bogus) error = %v, want ErrInvalid", err)
		}
	})
}

// seed creates n measurements one second apart, oldest first, alternating
// types and statuses, and returns them.
func seed(t testing.TB, s *Store, n int, start time.Time) []*Measurement {
	t.Helper()
	types := []string{"dns", "trace", "http"}
	statuses := []string{StatusQueued, StatusFinished}
	var ms []*Measurement
	for i := range n {
		m := &Measurement{Type: types[i%3], Target: fmt.Sprintf("host%d.example", i),
			Status: statuses[i%2], CreatedAt: start.Add(time.Duration(i) * time.Second)}
		if err := s.CreateMeasurement(context.Background(), m); err != nil {
			t.Fatalf("CreateMeasurement: %v", err)
		}
		ms = append(ms, m)
	}
	return ms
}

func targets(ms []Measurement) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Target)
	}
	return out
}

func TestListMeasurements(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	eachBackend(t, func(t *testing.T, s *Store, _ string) {
		seed(t, s, 12, start)
		for _, tc := range []struct {
			name string
			f    Filter
			want []string
		}{
			{"all newest first", Filter{Limit: 3}, []string{"host11.example", "host10.example", "host9.example"}},
			{"type", Filter{Type: "trace"}, []string{"host10.example", "host7.example", "host4.example", "host1.example"}},
			{"type and status", Filter{Type: "dns", Status: StatusFinished}, []string{"host9.example", "host3.example"}},
			{"before", Filter{Before: start.Add(2 * time.Second)}, []string{"host1.example", "host0.example"}},
			{"nothing", Filter{Type: "ws"}, nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, err := s.ListMeasurements(context.Background(), tc.f)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(targets(got), tc.want) {
					t.Errorf("got %v, want %v", targets(got), tc.want)
				}
			})
		}
		all, err := s.ListMeasurements(context.Background(), Filter{})
		if err != nil || len(all) != 12 {
			t.Errorf("ListMeasurements(Filter{}) = %d measurements (err %v), want 12", len(all), err)
		}
	})
}

func TestRetention(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	eachBackend(t, func(t *testing.T, s *Store, _ string) {
		ctx := context.Background()
		ms := seed(t, s, 10, start)
		n, err := s.DeleteMeasurementsBefore(ctx, start.Add(4*time.Second))
		if err != nil || n != 4 {
			t.Fatalf("DeleteMeasurementsBefore = %d, %v; want 4, nil", n, err)
		}
		if _, err := s.GetMeasurement(ctx, ms[3].ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("deleted measurement: GetMeasurement error = %v, want ErrNotFound", err)
		}
		if _, err := s.GetMeasurement(ctx, ms[4].ID); err != nil {
			t.Errorf("kept measurement: GetMeasurement: %v", err)
		}
		if n, err := s.DeleteMeasurementsBefore(ctx, start); err != nil || n != 0 {
			t.Errorf("second DeleteMeasurementsBefore = %d, %v; want 0, nil", n, err)
		}
	})
}

// TestConcurrentWriters creates and updates measurements from many goroutines
// at once (run with -race) and from two Stores on the same database.
func TestConcurrentWriters(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store, u string) {
		ctx := context.Background()
		other := openStore(t, u)
		const workers, each = 8, 25
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for w := range workers {
			st := s
			if w%2 == 1 {
				st = other
			}
			wg.Go(func() {
				for i := range each {
					m := &Measurement{Type: "tcp", Target: fmt.Sprintf("w%d-%d", w, i)}
					if err := st.CreateMeasurement(ctx, m); err != nil {
						errs <- err
						return
					}
					m.Status, m.Result = StatusFinished, json.RawMessage(`{"ok":true}`)
					if err := st.UpdateMeasurement(ctx, m); err != nil {
						errs <- err
						return
					}
					if _, err := st.GetMeasurement(ctx, m.ID); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("concurrent writer: %v", err)
		}
		got, err := s.ListMeasurements(ctx, Filter{Status: StatusFinished, Limit: 1000})
		if err != nil || len(got) != workers*each {
			t.Errorf("finished measurements = %d (err %v), want %d", len(got), err, workers*each)
		}
	})
}

func TestObserve(t *testing.T) {
	s := openStore(t, backends()[0].url(t))
	var ops []string
	s.SetObserver(func(op string, d time.Duration) {
		if d < 0 {
			t.Errorf("Observe(%s, %v): negative duration", op, d)
		}
		ops = append(ops, op)
	})
	ctx := context.Background()
	m := &Measurement{Type: "dns", Target: "example.com"}
	if err := s.CreateMeasurement(ctx, m); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetMeasurement(ctx, m.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if want := []string{"create_measurement", "get_measurement", "ping"}; !reflect.DeepEqual(ops, want) {
		t.Errorf("observed %v, want %v", ops, want)
	}
}
