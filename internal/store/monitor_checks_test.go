package store

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
)

func TestAPIChecksCRUD(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, s *Store, _ string) {
		ctx := context.Background()
		a := json.RawMessage(`{"name":"a","kind":"dns","target":"example.com"}`)
		c, err := s.CreateAPICheck(ctx, "a", a)
		if err != nil || c.ID != "a" || c.CreatedAt.IsZero() {
			t.Fatalf("create = %+v, %v", c, err)
		}
		if _, err := s.CreateAPICheck(ctx, "a", a); !errors.Is(err, ErrExists) {
			t.Errorf("second create = %v, want ErrExists", err)
		}
		b := json.RawMessage(`{"name":"a","kind":"dns","target":"example.org"}`)
		if err := s.ReplaceAPICheck(ctx, "a", b); err != nil {
			t.Fatal(err)
		}
		if err := s.ReplaceAPICheck(ctx, "nope", b); !errors.Is(err, ErrNotFound) {
			t.Errorf("replace of a missing check = %v, want ErrNotFound", err)
		}
		if _, err := s.CreateAPICheck(ctx, "b", a); err != nil {
			t.Fatal(err)
		}
		all, err := s.APIChecks(ctx)
		if err != nil || len(all) != 2 || all[0].ID != "a" || string(all[0].Body) != string(b) || all[0].UpdatedAt.Before(all[0].CreatedAt) {
			t.Fatalf("checks = %+v, %v; want a (replaced) and b", all, err)
		}
		if err := s.DeleteAPICheck(ctx, "a"); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteAPICheck(ctx, "a"); !errors.Is(err, ErrNotFound) {
			t.Errorf("second delete = %v, want ErrNotFound", err)
		}
		if all, _ := s.APIChecks(ctx); len(all) != 1 || all[0].ID != "b" {
			t.Errorf("after delete: %+v", all)
		}
	})
}
