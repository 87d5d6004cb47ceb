package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/dnsscience/dnsscience/internal/store"
)

// openTestStore opens the store at url for checks, closed when t ends.
func openTestStore(t *testing.T, url string) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

var keyRE = regexp.MustCompile(`^dss_[a-z2-7]{52}\n$`)

func TestAPIKeyCommands(t *testing.T) {
	dir := t.TempDir()
	out, stderr, code := runCLI(t, "apikey", "create", "ci pipeline", "--data", dir)
	if code != 0 || !keyRE.MatchString(out) {
		t.Fatalf("apikey create: exit %d, stdout %q, stderr %s; want exit 0 and a dss_ key", code, out, stderr)
	}
	plain := strings.TrimSpace(out)
	if !strings.Contains(stderr, "not shown again") {
		t.Errorf("apikey create stderr = %q, want a note that the key is shown once", stderr)
	}
	out, _, code = runCLI(t, "apikey", "create", "ops", "--admin", "--json", "--data", dir)
	var created struct {
		ID, Key string
		Admin   bool
	}
	if err := json.Unmarshal([]byte(out), &created); code != 0 || err != nil || !created.Admin || created.Key == "" {
		t.Fatalf("apikey create --admin --json: exit %d, %q (%v); want an admin key with its key", code, out, err)
	}

	s := openTestStore(t, store.SQLiteURL(dir))
	if k, err := s.LookupAPIKey(context.Background(), plain); err != nil || k.Name != "ci pipeline" || k.Admin {
		t.Errorf("the created key looks up as %+v, %v; want the non-admin key \"ci pipeline\"", k, err)
	}

	out, _, code = runCLI(t, "apikey", "list", "--data", dir)
	if code != 0 || !strings.Contains(out, "ci pipeline") || !strings.Contains(out, created.ID) || strings.Contains(out, plain) {
		t.Errorf("apikey list: exit %d:\n%s\nwant both keys listed by name and id, never the key itself", code, out)
	}

	if _, stderr, code := runCLI(t, "apikey", "revoke", created.ID, "--data", dir); code != 0 {
		t.Fatalf("apikey revoke: exit %d: %s", code, stderr)
	}
	if _, err := s.LookupAPIKey(context.Background(), created.Key); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("looking up a revoked key: %v, want ErrNotFound", err)
	}
	out, _, _ = runCLI(t, "apikey", "list", "--json", "--data", dir)
	var keys []store.APIKey
	if err := json.Unmarshal([]byte(out), &keys); err != nil || len(keys) != 2 || keys[1].RevokedAt.IsZero() {
		t.Errorf("apikey list --json = %s (%v); want 2 keys, the second revoked", out, err)
	}
}

func TestAPIKeyCommandErrors(t *testing.T) {
	dir := t.TempDir()
	runCLI(t, "apikey", "create", "k", "--data", dir)
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"apikey", "revoke", "nosuchkey", "--data", dir}, ExitFailure, `no API key with id "nosuchkey"`},
		{[]string{"apikey", "create", " ", "--data", dir}, ExitUsage, "bad key name"},
		{[]string{"apikey", "create", "--data", dir}, ExitUsage, "accepts 1 arg"},
		{[]string{"apikey", "list", "--data", filepath.Join(dir, "missing")}, ExitUsage, "no store at"},
		{[]string{"apikey", "list", "--data", dir, "--db", "x.db"}, ExitUsage, "[db data]"},
	} {
		_, stderr, code := runCLI(t, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.msg) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d saying %q", tc.args, code, stderr, tc.code, tc.msg)
		}
	}
}

// fillStore puts measurements and a key into the store in dir.
func fillStore(t *testing.T, dir string) {
	t.Helper()
	s := openTestStore(t, store.SQLiteURL(dir))
	ctx := context.Background()
	for i, typ := range []string{"dns", "trace", "http"} {
		m := &store.Measurement{Type: typ, Target: "example.com", Status: store.StatusFinished,
			Result: json.RawMessage(`{"ok": true}`), CreatedAt: time.Unix(int64(1e9+i), 0)}
		if err := s.CreateMeasurement(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := s.CreateAPIKey(ctx, "k", true); err != nil {
		t.Fatal(err)
	}
}

type storeContents struct {
	Measurements []store.Measurement
	Keys         []store.APIKey
}

func contentsOf(t *testing.T, url string) storeContents {
	t.Helper()
	s := openTestStore(t, url)
	ms, err := s.ListMeasurements(context.Background(), store.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	keys, err := s.ListAPIKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return storeContents{ms, keys}
}

func TestBackupRestoreCommands(t *testing.T) {
	src := t.TempDir()
	fillStore(t, src)
	want := contentsOf(t, store.SQLiteURL(src))
	file := filepath.Join(t.TempDir(), "dnss.jsonl.gz")

	out, stderr, code := runCLI(t, "backup", "--data", src, "--to", file)
	if code != 0 || !strings.Contains(out, "backed up 3 measurements and 1 API keys to "+file) {
		t.Fatalf("backup: exit %d, stdout %q, stderr %s", code, out, stderr)
	}
	out, _, code = runCLI(t, "backup", "--data", src, "--to", file, "--json")
	var sum backupSummary
	if err := json.Unmarshal([]byte(out), &sum); code != 0 || err != nil || sum.Counts["measurements"] != 3 ||
		sum.Dialect != "sqlite" || sum.Bytes == 0 {
		t.Errorf("backup --json: exit %d, %s (%v); want 3 measurements from sqlite", code, out, err)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(file), ".*.tmp")); len(leftovers) > 0 {
		t.Errorf("backup left temporary files: %v", leftovers)
	}

	dstURL := "sqlite://" + filepath.Join(t.TempDir(), "x.db")
	out, stderr, code = runCLI(t, "restore", file, "--db", dstURL)
	if code != 0 || !strings.Contains(out, "restored 3 measurements and 1 API keys") {
		t.Fatalf("restore: exit %d, stdout %q, stderr %s", code, out, stderr)
	}
	if got := contentsOf(t, dstURL); !reflect.DeepEqual(got, want) {
		t.Errorf("restored store differs:\n got %+v\nwant %+v", got, want)
	}

	_, stderr, code = runCLI(t, "restore", file, "--db", dstURL)
	if code != ExitUsage || !strings.Contains(stderr, "--force") {
		t.Errorf("restore into a non-empty store: exit %d, %q; want exit 2 asking for --force", code, stderr)
	}
	if _, stderr, code = runCLI(t, "restore", file, "--db", dstURL, "--force"); code != 0 {
		t.Errorf("restore --force: exit %d: %s", code, stderr)
	}
}

// TestRestoreIntoALostStore: a store whose file was lost is refused by
// the other commands (no empty store in its place), and restore fills it
// anew.
func TestRestoreIntoALostStore(t *testing.T) {
	src := t.TempDir()
	fillStore(t, src)
	want := contentsOf(t, store.SQLiteURL(src))
	file := filepath.Join(t.TempDir(), "dnss.jsonl.gz")
	if _, stderr, code := runCLI(t, "backup", "--data", src, "--to", file); code != 0 {
		t.Fatalf("backup: exit %d: %s", code, stderr)
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		_ = os.Remove(filepath.Join(src, store.DefaultFileName) + suffix)
	}
	if _, stderr, code := runCLI(t, "apikey", "create", "ci", "--data", src); code == 0 || !strings.Contains(stderr, "dnsscience restore") {
		t.Errorf("apikey create on a lost store: exit %d, %q; want a refusal saying how to restore", code, stderr)
	}
	if out, stderr, code := runCLI(t, "restore", file, "--data", src); code != 0 || !strings.Contains(out, "restored 3 measurements") {
		t.Fatalf("restore into the lost store: exit %d, %q %s", code, out, stderr)
	}
	if got := contentsOf(t, store.SQLiteURL(src)); !reflect.DeepEqual(got, want) {
		t.Errorf("restored store differs:\n got %+v\nwant %+v", got, want)
	}
}

// TestBackupRestoreStdio pipes a backup through stdout and stdin, with the
// stores chosen by $DNSSCIENCE_DB and $DNSSCIENCE_DATA.
func TestBackupRestoreStdio(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	fillStore(t, src)
	t.Setenv("DNSSCIENCE_DB", store.SQLiteURL(src))
	var backup, errb bytes.Buffer
	if code := Run(context.Background(), []string{"dnsscience", "backup", "--to", "-"}, strings.NewReader(""), &backup, &errb); code != 0 {
		t.Fatalf("backup --to -: exit %d: %s", code, errb.String())
	}
	t.Setenv("DNSSCIENCE_DB", "")
	t.Setenv("DNSSCIENCE_DATA", dst)
	var out bytes.Buffer
	if code := Run(context.Background(), []string{"dnsscience", "restore", "-"}, &backup, &out, &errb); code != 0 {
		t.Fatalf("restore -: exit %d: %s", code, errb.String())
	}
	if got, want := contentsOf(t, store.SQLiteURL(dst)), contentsOf(t, store.SQLiteURL(src)); !reflect.DeepEqual(got, want) {
		t.Errorf("restored store differs:\n got %+v\nwant %+v", got, want)
	}
}

func TestBackupRestoreCommandErrors(t *testing.T) {
	dir := t.TempDir()
	fillStore(t, dir)
	garbage := filepath.Join(dir, "garbage.gz")
	os.WriteFile(garbage, []byte("not a backup"), 0o600)
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"backup", "--data", dir}, "backup needs --to FILE"},
		{[]string{"backup", "--data", dir, "--to", "-", "--json"}, "--json"},
		{[]string{"backup", "--data", filepath.Join(dir, "nope"), "--to", filepath.Join(dir, "b.gz")}, "no store at"},
		{[]string{"restore", filepath.Join(dir, "missing.gz"), "--data", dir}, "no backup file"},
		{[]string{"restore", garbage, "--data", dir, "--force"}, "not a gzip-compressed dnsscience backup"},
		{[]string{"restore", "--data", dir}, "accepts 1 arg"},
	} {
		_, stderr, code := runCLI(t, tc.args...)
		if code != ExitUsage || !strings.Contains(stderr, tc.msg) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 saying %q", tc.args, code, stderr, tc.msg)
		}
	}
	if got := contentsOf(t, store.SQLiteURL(dir)); len(got.Measurements) != 3 {
		t.Errorf("after failed restores the store holds %d measurements, want the 3 it had", len(got.Measurements))
	}
}

func TestStoreURLPrecedence(t *testing.T) {
	for _, tc := range []struct {
		name, envDB, envData string
		args                 []string
		want                 string
	}{
		{"default", "", "", nil, "sqlite://data/dnsscience.db"},
		{"env data", "", "/srv/d", nil, "sqlite:///srv/d/dnsscience.db"},
		{"env db over env data", "postgres://h/db", "/srv/d", nil, "postgres://h/db"},
		{"--data over env", "postgres://h/db", "/srv/d", []string{"--data", "/x"}, "sqlite:///x/dnsscience.db"},
		{"--db over env", "postgres://h/db", "", []string{"--db", "/y/s.db"}, "/y/s.db"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("DNSSCIENCE_DB", tc.envDB)
			t.Setenv("DNSSCIENCE_DATA", tc.envData)
			cmd := &cobra.Command{Use: "x", RunE: func(*cobra.Command, []string) error { return nil }}
			sf := addStoreFlags(cmd)
			cmd.SetArgs(tc.args)
			if err := cmd.Execute(); err != nil {
				t.Fatal(err)
			}
			if got, err := sf.url(); err != nil || got != tc.want {
				t.Errorf("url() = %s, %v; want %s", got, err, tc.want)
			}
		})
	}
}

// TestStoreFromServeConfig: the store commands read the store from the
// server's configuration file (--config or $DNSSCIENCE_CONFIG) as serve
// does, below --data and the environment.
func TestStoreFromServeConfig(t *testing.T) {
	dir, other := t.TempDir(), t.TempDir()
	fillStore(t, dir)
	conf := filepath.Join(t.TempDir(), "dnsscience.yaml")
	if err := os.WriteFile(conf, []byte("listen: 127.0.0.1:8080\nretention: 30d\ndata: "+dir+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DNSSCIENCE_DB", "")
	t.Setenv("DNSSCIENCE_DATA", "")
	out, stderr, code := runCLI(t, "backup", "--config", conf, "--to", filepath.Join(other, "b.gz"), "--json")
	if code != 0 || !strings.Contains(out, `"measurements": 3`) {
		t.Errorf("backup --config: exit %d %s %s; want the 3 measurements of the file's data directory", code, out, stderr)
	}
	t.Setenv("DNSSCIENCE_CONFIG", conf)
	if out, stderr, code = runCLI(t, "apikey", "list"); code != 0 {
		t.Errorf("apikey list with $DNSSCIENCE_CONFIG: exit %d %s %s", code, out, stderr)
	}
	// --data beats the file's data.
	_, stderr, code = runCLI(t, "backup", "--data", filepath.Join(other, "none"), "--to", filepath.Join(other, "c.gz"))
	if code != ExitUsage || !strings.Contains(stderr, "no store at "+filepath.Join(other, "none")) {
		t.Errorf("backup --data over the file: exit %d %q, want 2 naming the --data store", code, stderr)
	}
	os.WriteFile(conf, []byte("colour: red\n"), 0o600)
	if _, stderr, code = runCLI(t, "apikey", "list"); code != ExitUsage || !strings.Contains(stderr, conf+`:1: unknown setting "colour"`) {
		t.Errorf("bad config file: exit %d %q, want 2 naming the file and line", code, stderr)
	}
}
