package runner

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dnsscience/dnsscience/internal/measure"
	"github.com/dnsscience/dnsscience/internal/store"
)

// remoteSet is a fixed Remote: one online location served here, one
// offline.
type remoteSet struct{}

type offline struct{}

func (offline) Dispatch(context.Context, *measure.Plan, measure.Emit) (any, error) {
	return nil, errors.New("offline")
}
func (offline) Online() (bool, string) { return false, "agent gone since 10:00" }

func (remoteSet) Locations() []LocationStatus {
	return []LocationStatus{
		{Location: Location{ID: "far", Name: "Far", Provider: "agent", Country: "NZ", ASN: 64500}, Status: "online"},
		{Location: Location{ID: "gone", Name: "Gone", Provider: "agent"}, Status: "offline", Reason: "agent gone since 10:00"},
	}
}

func (remoteSet) Dispatcher(id string) (Dispatcher, bool) {
	switch id {
	case "far":
		return Local{}, true
	case "gone":
		return offline{}, true
	}
	return nil, false
}

func newTestService(t *testing.T) *Service {
	t.Helper()
	st, err := store.Open(context.Background(), "sqlite://"+filepath.Join(t.TempDir(), "db.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s, err := New(Config{Store: st, Env: &measure.Env{}, Remote: remoteSet{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Shutdown(context.Background()) })
	return s
}

func TestCreateEachRunsOneMeasurementPerLocation(t *testing.T) {
	t.Parallel()
	s := newTestService(t)
	ctx := context.Background()
	ms, err := s.CreateEach(ctx, Request{Kind: "geo", Target: "192.0.2.1", Locations: []string{"local", "far"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || ms[0].Locations[0] != "local" || ms[1].Locations[0] != "far" || ms[0].ID == ms[1].ID {
		t.Fatalf("CreateEach = %+v, want one measurement at local and one at far", ms)
	}
	for _, m := range ms {
		_, events, cancel, live := s.Subscribe(m.ID)
		if live {
			for range events {
			}
		}
		cancel()
		// The stream ends after "result", sent once the store has it.
		got, err := s.Get(ctx, m.ID)
		if err != nil || got.Status != "finished" {
			t.Errorf("measurement at %v: %+v, %v; want finished", m.Locations, got, err)
		}
	}
}

func TestLocationsRefusedWithReasons(t *testing.T) {
	t.Parallel()
	s := newTestService(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		locs  []string
		field string
		each  bool
	}{
		{"offline agent", []string{"local", "gone"}, "locations[1]", true},
		{"unknown", []string{"nowhere"}, "locations[0]", true},
		{"twice", []string{"far", "far"}, "locations[1]", true},
		{"several through Create", []string{"local", "far"}, "locations", false},
		{"bad selector", []string{"any:zero"}, "locations[0]", true},
		{"too few", []string{"any:3"}, "locations[0]", true},
		{"no such country", []string{"country:FR"}, "locations[0]", true},
	} {
		var err error
		if tc.each {
			_, err = s.CreateEach(ctx, Request{Kind: "geo", Target: "192.0.2.1", Locations: tc.locs})
		} else {
			_, err = s.Create(ctx, Request{Kind: "geo", Target: "192.0.2.1", Locations: tc.locs})
		}
		var fe *measure.FieldError
		if !errors.As(err, &fe) || fe.Field != tc.field {
			t.Errorf("%s: err = %v, want a field error on %s", tc.name, err, tc.field)
		}
	}
	var names []string
	for _, l := range s.Locations() {
		names = append(names, l.ID+"="+l.Status)
	}
	if len(names) != 3 || names[0] != "local=online" || names[1] != "far=online" || names[2] != "gone=offline" {
		t.Errorf("Locations = %v, want local, far online and gone offline", names)
	}
}

func TestSelectorsChooseOnlineLocations(t *testing.T) {
	t.Parallel()
	s := newTestService(t)
	for _, tc := range []struct {
		sel  []string
		want string
	}{
		{[]string{"any:2"}, "local far"},
		{[]string{"far", "any:1"}, "far local"},
		{[]string{"country:nz"}, "far"},
		{[]string{"asn:AS64500", "local"}, "far local"},
		{[]string{"country:", "far"}, ""},
	} {
		got, err := s.expand(tc.sel)
		if tc.want == "" {
			if err == nil {
				t.Errorf("expand(%v) = %v, want an error", tc.sel, got)
			}
			continue
		}
		if err != nil || strings.Join(got, " ") != tc.want {
			t.Errorf("expand(%v) = %v, %v; want %s", tc.sel, got, err, tc.want)
		}
	}
}
