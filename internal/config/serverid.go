package config

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ServerIDFile holds the generated server id in the data directory.
const ServerIDFile = "server-id"

func validServerID(v string) bool {
	if v == "" || len(v) > 64 {
		return false
	}
	for _, r := range v {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// ResolveServerID returns the configured server id, or the one kept in the
// data directory, made (random) and kept there on the first start: a
// server restarted on its data is the same server, and two servers with
// their own data directories sharing one PostgreSQL are two.
func (s *Server) ResolveServerID() (string, error) {
	if s.ServerID != "" {
		return s.ServerID, nil
	}
	path := filepath.Join(s.Data, ServerIDFile)
	b, err := os.ReadFile(path)
	if err == nil {
		id := strings.TrimSpace(string(b))
		if !validServerID(id) {
			return "", fmt.Errorf("%s: not a server id (1 to 64 letters, digits, '.', '_' or '-'); fix or remove it", path)
		}
		return id, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("reading the server id: %w", err)
	}
	host, _ := os.Hostname()
	host = strings.Map(func(r rune) rune {
		if validServerID(string(r)) {
			return r
		}
		return '-'
	}, host)
	rnd := make([]byte, 4)
	rand.Read(rnd)
	id := hex.EncodeToString(rnd)
	if host != "" {
		id = host[:min(len(host), 48)] + "-" + id
	}
	if err := os.WriteFile(path, []byte(id+"\n"), 0o640); err != nil {
		return "", fmt.Errorf("keeping the server id: %w", err)
	}
	return id, nil
}
