package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestAgentCredentials(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, s *Store, _ string) {
		ctx := context.Background()
		if _, _, err := s.CreateAgent(ctx, "Bad Name"); !errors.Is(err, ErrInvalid) {
			t.Fatalf("CreateAgent(bad name) = %v, want ErrInvalid", err)
		}
		token, a, err := s.CreateAgent(ctx, "eu-1")
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.CreateAgent(ctx, "eu-1"); !errors.Is(err, ErrInvalid) {
			t.Errorf("CreateAgent(duplicate) = %v, want ErrInvalid", err)
		}
		if n, err := AgentTokenName(token); n != "eu-1" || err != nil {
			t.Errorf("AgentTokenName(%s) = %q, %v; want eu-1", token, n, err)
		}
		if _, err := AgentTokenName("dsa_eu-1"); !errors.Is(err, ErrInvalid) {
			t.Errorf("AgentTokenName(short) = %v, want ErrInvalid", err)
		}
		got, err := s.AuthenticateAgent(ctx, token)
		if err != nil || got.Name != "eu-1" || got.Prefix != a.Prefix {
			t.Fatalf("AuthenticateAgent = %+v, %v; want eu-1", got, err)
		}
		if _, err := s.AuthenticateAgent(ctx, token+"x"); !errors.Is(err, ErrNotFound) {
			t.Errorf("AuthenticateAgent(wrong) = %v, want ErrNotFound", err)
		}
		lat, lon := 50.1, 8.7
		seen := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		if err := s.SeenAgent(ctx, Agent{Name: "eu-1", City: "Frankfurt", Country: "DE", Latitude: &lat, Longitude: &lon, ASN: 64500, Version: "v1", LastSeenAt: seen}); err != nil {
			t.Fatal(err)
		}
		g, err := s.GetAgent(ctx, "eu-1")
		if err != nil || g.City != "Frankfurt" || *g.Latitude != lat || g.ASN != 64500 || !g.LastSeenAt.Equal(seen) {
			t.Errorf("GetAgent = %+v, %v; want what SeenAgent recorded", g, err)
		}
		if err := s.RevokeAgent(ctx, "eu-1"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AuthenticateAgent(ctx, token); !errors.Is(err, ErrNotFound) {
			t.Errorf("AuthenticateAgent(revoked) = %v, want ErrNotFound", err)
		}
		if err := s.RevokeAgent(ctx, "nope"); !errors.Is(err, ErrNotFound) {
			t.Errorf("RevokeAgent(unknown) = %v, want ErrNotFound", err)
		}
		list, err := s.ListAgents(ctx)
		if err != nil || len(list) != 1 || list[0].RevokedAt.IsZero() {
			t.Errorf("ListAgents = %+v, %v; want one revoked agent", list, err)
		}
	})
}
