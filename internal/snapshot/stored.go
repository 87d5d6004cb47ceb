package snapshot

import (
	"bytes"
	"context"
	"fmt"

	"github.com/dnsscience/dnsscience/internal/store"
)

// Save stores s (source says who took it: cli, api, schedule) and sets
// s.ID.
func Save(ctx context.Context, st *store.Store, s *Snapshot, source, clientID string) error {
	var b bytes.Buffer
	s.ID = ""
	if err := s.Encode(&b); err != nil {
		return err
	}
	row := &store.Snapshot{Domain: s.Domain, TakenAt: s.TakenAt, Method: s.Method, Serial: s.Serial,
		RRsets: len(s.RRsets), Records: s.Records(), Source: source, ClientID: clientID, Data: b.Bytes()}
	if err := st.CreateSnapshot(ctx, row); err != nil {
		return err
	}
	s.ID = row.ID
	return nil
}

// Load reads the stored snapshot id.
func Load(ctx context.Context, st *store.Store, id string) (*Snapshot, error) {
	row, err := st.GetSnapshot(ctx, id)
	if err != nil {
		return nil, err
	}
	return fromRow(row)
}

// LoadOwned reads the stored snapshot id if clientID took it; another
// client's snapshot, and any for an empty clientID, is store.ErrNotFound
// like an unknown id.
func LoadOwned(ctx context.Context, st *store.Store, id, clientID string) (*Snapshot, error) {
	row, err := st.GetSnapshot(ctx, id)
	if err != nil {
		return nil, err
	}
	if clientID == "" || row.ClientID != clientID {
		return nil, fmt.Errorf("snapshot %s: %w", id, store.ErrNotFound)
	}
	return fromRow(row)
}

// Latest reads the newest stored snapshot of domain (store.ErrNotFound
// when there is none).
func Latest(ctx context.Context, st *store.Store, domain string) (*Snapshot, error) {
	row, err := st.LatestSnapshot(ctx, domain)
	if err != nil {
		return nil, err
	}
	return fromRow(row)
}

func fromRow(row *store.Snapshot) (*Snapshot, error) {
	s, err := Parse(row.Data)
	if err != nil {
		return nil, fmt.Errorf("stored snapshot %s: %w", row.ID, err)
	}
	s.ID = row.ID
	return s, nil
}
