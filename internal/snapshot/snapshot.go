// Package snapshot takes a domain's DNS records into a typed, versioned
// JSON document — by zone transfer (AXFR) when the authoritative servers
// allow it, else by asking a list of common names × types — and compares
// two snapshots: RRsets added, removed and changed, with the SOA serial
// and TTLs left out unless asked for.
package snapshot

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"
)

// Format and Version identify the JSON document; a reader refuses other
// formats and newer versions.
const (
	Format  = "dnsscience-snapshot"
	Version = 1
)

// How a snapshot was taken.
const (
	MethodAXFR  = "axfr"  // the whole zone, by zone transfer
	MethodNames = "names" // the names × types listed in Asked
)

// ErrBadSnapshot is wrapped when a document is not a snapshot this
// binary reads.
var ErrBadSnapshot = errors.New("not a dnsscience snapshot")

// Snapshot is a domain's records at one moment.
type Snapshot struct {
	Format  string `json:"format"`
	Version int    `json:"version"`
	// ID is the store's id of a stored snapshot; empty for a file.
	ID string `json:"id,omitempty"`
	// Domain is the zone, fully qualified and lower case.
	Domain  string    `json:"domain"`
	TakenAt time.Time `json:"taken_at"`
	// Method is MethodAXFR or MethodNames.
	Method string `json:"method"`
	// Server is the server the records came from (the transfer's, or
	// the servers the questions went to, comma separated).
	Server string `json:"server"`
	// Serial is the SOA serial seen, 0 when no SOA was found.
	Serial uint32 `json:"serial"`
	// TransferError says why a names snapshot was not a transfer (each
	// server's refusal); empty when transfers were not tried.
	TransferError string `json:"transfer_error,omitempty"`
	// Asked lists the questions of a names snapshot: what it covers.
	Asked []Asked `json:"asked,omitempty"`
	// RRsets are the records, sorted by name (DNS order) then type.
	RRsets []RRset `json:"rrsets"`
}

// Asked is one name of a names snapshot with the types asked for it.
type Asked struct {
	Name  string   `json:"name"`
	Types []string `json:"types"`
}

// RRset is the records of one owner name and type.
type RRset struct {
	Name string `json:"name"`
	Type string `json:"type"`
	TTL  uint32 `json:"ttl"`
	// Data is each record's data in presentation form (as dig +short
	// prints it), sorted.
	Data []string `json:"data"`
}

// Records counts the records in s.
func (s *Snapshot) Records() int {
	n := 0
	for _, rs := range s.RRsets {
		n += len(rs.Data)
	}
	return n
}

// covers says whether a names snapshot asked name/typ; an AXFR snapshot
// covers everything in its zone.
func (s *Snapshot) covers(name, typ string) bool {
	if s.Method != MethodNames {
		return true
	}
	for _, a := range s.Asked {
		if a.Name == name {
			// A CNAME answers every type asked of its owner.
			return typ == "CNAME" || slices.Contains(a.Types, typ)
		}
	}
	return false
}

// Read decodes a snapshot document and checks its format and version.
func Read(r io.Reader) (*Snapshot, error) {
	dec := json.NewDecoder(io.LimitReader(r, MaxDocumentBytes+1))
	var s Snapshot
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadSnapshot, err)
	}
	if err := s.check(); err != nil {
		return nil, err
	}
	return &s, nil
}

// Parse is Read of a byte slice.
func Parse(b []byte) (*Snapshot, error) { return Read(bytes.NewReader(b)) }

// MaxDocumentBytes bounds a snapshot document that is read.
const MaxDocumentBytes = 256 << 20

func (s *Snapshot) check() error {
	switch {
	case s.Format != Format:
		return fmt.Errorf("%w: format %q, want %q", ErrBadSnapshot, s.Format, Format)
	case s.Version < 1 || s.Version > Version:
		return fmt.Errorf("%w: version %d; this binary reads versions 1 to %d", ErrBadSnapshot, s.Version, Version)
	case s.Domain == "":
		return fmt.Errorf("%w: no domain", ErrBadSnapshot)
	case s.Method != MethodAXFR && s.Method != MethodNames:
		return fmt.Errorf("%w: method %q, want %s or %s", ErrBadSnapshot, s.Method, MethodAXFR, MethodNames)
	}
	return nil
}

// Encode writes s as indented JSON.
func (s *Snapshot) Encode(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return fmt.Errorf("encoding snapshot: %w", err)
	}
	return nil
}
