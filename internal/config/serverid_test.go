package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServerIDKeptInData: without server_id, the first start makes an id
// and keeps it in the data directory; later starts read it back; a
// configured id wins; a damaged file is an error naming it.
func TestServerIDKeptInData(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := &Server{Data: dir}
	first, err := s.ResolveServerID()
	if err != nil || !validServerID(first) {
		t.Fatalf("first start: %q %v, want a valid id", first, err)
	}
	again, err := s.ResolveServerID()
	if err != nil || again != first {
		t.Errorf("restart: %q %v, want the kept %q", again, err, first)
	}
	other, _ := (&Server{Data: t.TempDir()}).ResolveServerID()
	if other == first {
		t.Errorf("two data directories made the same id %q", first)
	}
	if got, _ := (&Server{Data: dir, ServerID: "eu-1"}).ResolveServerID(); got != "eu-1" {
		t.Errorf("configured id: got %q, want eu-1", got)
	}
	if err := os.WriteFile(filepath.Join(dir, ServerIDFile), []byte("not ok/\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ResolveServerID(); err == nil || !strings.Contains(err.Error(), ServerIDFile) {
		t.Errorf("damaged file: %v, want an error naming %s", err, ServerIDFile)
	}
}
