package check

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestLoadGood(t *testing.T) {
	s, err := Load("testdata/good.yaml", env(map[string]string{"API_IP": "203.0.113.10", "TOKEN": "s3cret"}))
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "good" || len(s.Checks) != 6 || s.Defaults.Timeout != 5*time.Second || s.Defaults.Concurrency != 4 || len(s.Defaults.Resolvers) != 2 {
		t.Fatalf("got %+v", s)
	}
	dnsCheck := s.Checks[0]
	if dnsCheck.Line != 7 || dnsCheck.Options.Type != "A" || len(dnsCheck.Conditions) != 2 ||
		dnsCheck.Conditions[1].Text != `dns.answers contains "203.0.113.10"` {
		t.Fatalf("got %+v", dnsCheck)
	}
	h := s.Checks[2]
	if h.Options.Headers["Authorization"] != "Bearer s3cret" || h.Options.ConnectTo != "127.0.0.1" {
		t.Fatalf("got %+v", h.Options)
	}
	if s.Checks[3].Kind != "tls" {
		t.Fatalf("cert kind: got %q, want tls", s.Checks[3].Kind)
	}
	if s.Checks[4].Options.linger != time.Second {
		t.Fatalf("linger: got %v", s.Checks[4].Options.linger)
	}
}

// TestLoadBad pairs each bad suite file with its exact error.
func TestLoadBad(t *testing.T) {
	files, err := filepath.Glob("testdata/bad/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatal("no bad suites")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			want, err := os.ReadFile(strings.TrimSuffix(f, ".yaml") + ".err")
			if err != nil {
				t.Fatal(err)
			}
			_, err = Load(f, env(nil))
			if !errors.Is(err, ErrSuite) {
				t.Fatalf("got %v, want ErrSuite", err)
			}
			if got := err.Error(); got != strings.TrimSpace(string(want)) {
				t.Fatalf("got  %s\nwant %s", got, want)
			}
		})
	}
}

// FuzzParse: no suite text makes the loader panic, and every error names
// the file.
func FuzzParse(f *testing.F) {
	for _, p := range []string{"testdata/good.yaml", "testdata/bad/bad-condition.yaml", "testdata/bad/unknown-option.yaml"} {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("checks: [{name: a, kind: tcp, target: 'a:1', conditions: ['ok && (']}]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := Parse("f.yaml", data, env(map[string]string{"API_IP": "1.2.3.4", "TOKEN": "x"}))
		if err != nil && !strings.Contains(err.Error(), "f.yaml") {
			t.Fatalf("error without the file name: %v", err)
		}
	})
}
