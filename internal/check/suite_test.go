package check

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dnsscience/dnsscience/internal/measure"
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
	if dnsCheck.Line != 7 || string(dnsCheck.Options) != `{"resolver":"127.0.0.1:5353","timeout":"5s","type":"A"}` || len(dnsCheck.Conditions) != 2 ||
		dnsCheck.Conditions[1].Text != `dns.answers contains "203.0.113.10"` {
		t.Fatalf("got %+v %s", dnsCheck, dnsCheck.Options)
	}
	// The suite's defaults fill the options the kind has and the check
	// does not set: the resolvers and the timeout here.
	if got := string(s.Checks[1].Options); got != `{"resolvers":["127.0.0.1:5353","tcp://[::1]:5353"],"timeout":"5s"}` {
		t.Fatalf("propagation options %s", got)
	}
	h := s.Checks[2]
	if got := string(h.Options); got != `{"connect_to":"127.0.0.1","headers":{"Authorization":"Bearer s3cret"},"timeout":"5s"}` {
		t.Fatalf("http options %s", got)
	}
	if s.Checks[3].Kind != "cert" {
		t.Fatalf("cert kind: got %q, want cert (the registry's name)", s.Checks[3].Kind)
	}
	if got := string(s.Checks[4].Options); got != `{"expect":"pong","linger":"1s","send":"ping","timeout":"5s"}` {
		t.Fatalf("ws options %s", got)
	}
}

// TestSuitesAcceptWhatTheAPIAccepts: every kind and alias of the registry,
// and every option of each kind, load from a suite; an unknown option is
// refused naming exactly the registry's options.
func TestSuitesAcceptWhatTheAPIAccepts(t *testing.T) {
	reg := measure.New()
	targets := map[string]string{"dns": "example.test", "propagation": "example.test", "tcp": "127.0.0.1:80", "cert": "127.0.0.1:443",
		"http": "http://127.0.0.1/", "ws": "ws://127.0.0.1/", "trace": "127.0.0.1", "geo": "192.0.2.1", "diagnose": "https://127.0.0.1/", "scan": "example.com",
		"snapshot": "example.com", "roots": "."}
	special := map[string]string{"resolvers": "[cloudflare]", "server": "127.0.0.1:53", "resolver": "127.0.0.1:53", "expect_ip": "[192.0.2.1]",
		"connect_to": "127.0.0.2", "type": "AAAA", "types": "[AAAA]", "ok_close_codes": "[1000]", "roots": "[127.0.0.10]", "no_system": "true, resolvers: [cloudflare]", "ca": "", "port": "33434", "method": "GET", "headers": "{X-A: b}", "expect_status": "[200]", "trust_anchor": "'. DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D'"}
	for _, k := range reg.Kinds() {
		target, ok := targets[k.Info().Name]
		if !ok {
			t.Fatalf("kind %s has no test target: add one", k.Info().Name)
		}
		for _, name := range append([]string{k.Info().Name}, k.Info().Aliases...) {
			if _, err := Parse("k.yaml", []byte("checks: [{name: a, kind: "+name+", target: '"+target+"'}]"), env(nil)); err != nil {
				t.Errorf("kind %s: %v", name, err)
			}
		}
		for _, f := range k.Options() {
			if f.Name == "ca" || f.Name == "continuous" || f.Name == "resolver" && k.Info().Name == "dns" {
				continue // a file; CLI only; the alias of server (one of the two at a time)
			}
			v, ok := special[f.Name]
			switch {
			case f.Name == "expect" && f.Type == "strings":
				v = "[192.0.2.1]"
			case ok:
			case len(f.Enum) > 0:
				v = f.Enum[0]
			case f.Type == "boolean":
				v = "true"
			case f.Type == "duration":
				v = "1s"
			case f.Type == "integer" && f.Min != "":
				v = f.Min
			case f.Type == "integer":
				v = "1"
			case f.Type == "strings":
				v = "[x]"
			default:
				v = "x"
			}
			if k.Info().Name == "trace" && f.Name == "port" {
				v += ", protocol: udp"
			}
			suite := "checks: [{name: a, kind: " + k.Info().Name + ", target: '" + target + "', options: {" + f.Name + ": " + v + "}}]"
			if _, err := Parse("o.yaml", []byte(suite), env(nil)); err != nil {
				t.Errorf("%s option %s: %v", k.Info().Name, f.Name, err)
			}
		}
		_, err := Parse("u.yaml", []byte("checks: [{name: a, kind: "+k.Info().Name+", target: '"+target+"', options: {nope: 1}}]"), env(nil))
		if err == nil || !strings.Contains(err.Error(), "expected one of: "+strings.Join(optionNames(k), ", ")) {
			t.Errorf("%s: an unknown option gave %v, want the registry's option list", k.Info().Name, err)
		}
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
