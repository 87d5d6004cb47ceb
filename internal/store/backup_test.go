package store

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

// contents is everything a store holds, for comparisons.
type contents struct {
	Measurements []Measurement
	Keys         []APIKey
	Hashes       string
	// Monitor is every row of the monitor's tables, as text.
	Monitor string
}

func snapshot(t *testing.T, s *Store) contents {
	t.Helper()
	ms, err := s.ListMeasurements(context.Background(), Filter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	keys, err := s.ListAPIKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	rows, err := s.r.Query("SELECT hash FROM api_keys ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var hashes []string
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			t.Fatal(err)
		}
		hashes = append(hashes, h)
	}
	return contents{ms, keys, strings.Join(hashes, ","), monitorRows(t, s)}
}

// monitorRows is every row of the monitor's tables as text, in a stable order.
func monitorRows(t *testing.T, s *Store) string {
	t.Helper()
	var b strings.Builder
	for _, tb := range backupTables {
		if !strings.HasPrefix(tb.name, "monitor_") {
			continue
		}
		var buf bytes.Buffer
		if _, err := func() (int64, error) {
			tx, err := s.r.BeginTx(context.Background(), nil)
			if err != nil {
				return 0, err
			}
			defer tx.Rollback()
			return dumpTable(context.Background(), tx, tb, json.NewEncoder(&buf))
		}(); err != nil {
			t.Fatalf("reading %s: %v", tb.name, err)
		}
		b.WriteString(tb.name + "\n" + buf.String())
	}
	return b.String()
}

// fill stores measurements of every shape and keys (admin, used, revoked),
// and returns the plaintext of a live key.
func fill(t testing.TB, s *Store) string {
	t.Helper()
	ctx := context.Background()
	start := time.Date(2026, 3, 1, 12, 0, 0, 123456000, time.UTC)
	ms := seed(t, s, 5, start)
	full := &Measurement{Type: "trace", Target: "2001:db8::53", Options: json.RawMessage(`{"proto": "icmp", "max_hops": 30}`),
		Locations: []string{"local", "ams", "sjc"}, Status: StatusFailed, Error: "no route to host — «unicode» \"quoted\"",
		Result: json.RawMessage(`{"hops":[{"ttl":1,"addr":"10.0.0.1"}]}`), ClientID: "key:abc",
		CreatedAt: start.Add(time.Hour), StartedAt: start.Add(time.Hour + time.Millisecond), FinishedAt: start.Add(2 * time.Hour)}
	if err := s.CreateMeasurement(ctx, full); err != nil {
		t.Fatal(err)
	}
	ms[0].Status, ms[0].StartedAt = StatusRunning, start.Add(time.Minute)
	if err := s.UpdateMeasurement(ctx, ms[0]); err != nil {
		t.Fatal(err)
	}
	live, _, err := s.CreateAPIKey(ctx, "live", true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.LookupAPIKey(ctx, live); err != nil {
		t.Fatal(err)
	}
	_, dead, err := s.CreateAPIKey(ctx, "dead", false)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeAPIKey(ctx, dead.ID); err != nil {
		t.Fatal(err)
	}
	fillMonitor(t, s, start)
	return live
}

// fillMonitor stores a check made through the API, states, state changes,
// results (with and without evidence) and rollups of every level.
func fillMonitor(t testing.TB, s *Store, at time.Time) {
	t.Helper()
	ctx := context.Background()
	if _, err := s.CreateAPICheck(ctx, "api-one", json.RawMessage(`{"name":"api one","kind":"dns","target":"example.com"}`)); err != nil {
		t.Fatal(err)
	}
	b := &MonitorBatch{
		States: []CheckState{{CheckID: "web", Location: "local", Status: "down", Health: "down", Fails: 3, Since: at, LastRun: at.Add(time.Minute),
			Last: json.RawMessage(`{"outcome":"fail"}`)}, {CheckID: "api-one", Location: "ams", Status: "pending", Health: "pending", Since: at}},
		Transitions: []CheckTransition{{CheckID: "web", Location: "local", At: at, From: "up", To: "down", Reason: "3 failures «x»"}},
		Results: []CheckResult{{CheckID: "web", Location: "local", At: at, Outcome: "ok", Duration: 1234 * time.Microsecond, Lag: time.Millisecond},
			{CheckID: "web", Location: "local", At: at.Add(time.Second), Outcome: "fail", Duration: time.Second, Error: "refused",
				Evidence: json.RawMessage(`{"failed":[{"condition":"status == 200","actual":"503"}]}`)}},
	}
	for _, level := range []string{LevelMinute, LevelHour, LevelDay} {
		r := Rollup{CheckID: "web", Location: "local", Level: level, Bucket: at.Truncate(time.Hour)}
		r.Observe("ok", 1234*time.Microsecond)
		r.Observe("fail", time.Second)
		b.Rollups = append(b.Rollups, r)
	}
	if err := s.SaveMonitor(ctx, b); err != nil {
		t.Fatal(err)
	}
}

func backupOf(t *testing.T, s *Store) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := s.Backup(context.Background(), &buf); err != nil {
		t.Fatalf("Backup: %v", err)
	}
	return buf.Bytes()
}

// TestBackupRestore backs up a store of each dialect and restores it into a
// fresh and into a non-empty store of each dialect, which must then hold
// exactly what the source held.
func TestBackupRestore(t *testing.T) {
	ctx := context.Background()
	for _, from := range backends() {
		for _, to := range backends() {
			t.Run(from.name+"_to_"+to.name, func(t *testing.T) {
				src := openStore(t, from.url(t))
				live := fill(t, src)
				want := snapshot(t, src)
				b := backupOf(t, src)

				info, err := ReadBackupInfo(bytes.NewReader(b))
				if err != nil {
					t.Fatalf("ReadBackupInfo: %v", err)
				}
				if info.Dialect != from.name || info.SchemaVersion != SchemaVersion() ||
					info.Counts["measurements"] != 6 || info.Counts["api_keys"] != 2 || info.Counts["monitor_api_checks"] != 1 ||
					info.Counts["monitor_states"] != 2 || info.Counts["monitor_transitions"] != 1 || info.Counts["monitor_results"] != 2 ||
					info.Counts["monitor_rollups"] != 3 {
					t.Errorf("ReadBackupInfo = %+v, want dialect %s, schema %d, 6 measurements, 2 keys", info, from.name, SchemaVersion())
				}

				dst := openStore(t, to.url(t))
				seed(t, dst, 3, time.Now()) // replaced by the restore
				if _, _, err := dst.CreateAPIKey(ctx, "replaced", false); err != nil {
					t.Fatal(err)
				}
				if _, err := dst.CreateAPICheck(ctx, "replaced", json.RawMessage(`{}`)); err != nil {
					t.Fatal(err)
				}
				if err := dst.Restore(ctx, bytes.NewReader(b)); err != nil {
					t.Fatalf("Restore: %v", err)
				}
				if got := snapshot(t, dst); !reflect.DeepEqual(got, want) {
					t.Errorf("restored store differs:\n got %+v\nwant %+v", got, want)
				}
				if k, err := dst.LookupAPIKey(ctx, live); err != nil || k.Name != "live" || !k.Admin {
					t.Errorf("LookupAPIKey after restore = %+v, %v; want the live admin key", k, err)
				}
				// And back again: the copy's backup restores to the same.
				if err := src.Restore(ctx, bytes.NewReader(backupOf(t, dst))); err != nil {
					t.Fatalf("Restore back: %v", err)
				}
				if got := snapshot(t, src); !reflect.DeepEqual(got.Measurements, want.Measurements) || got.Hashes != want.Hashes || got.Monitor != want.Monitor {
					t.Errorf("round trip differs:\n got %+v\nwant %+v", got, want)
				}
			})
		}
	}
}

func TestBackupOfEmptyStore(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store, _ string) {
		b := backupOf(t, s)
		fill(t, s)
		if err := s.Restore(context.Background(), bytes.NewReader(b)); err != nil {
			t.Fatal(err)
		}
		if got := snapshot(t, s); len(got.Measurements)+len(got.Keys) != 0 {
			t.Errorf("after restoring an empty backup the store holds %+v, want nothing", got)
		}
	})
}

// rewrite decompresses a backup, applies f to its text and compresses it.
func rewrite(t *testing.T, b []byte, f func(string) string) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	text, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	zw.Write([]byte(f(string(text))))
	zw.Close()
	return out.Bytes()
}

// TestRestoreRejectsBadBackups requires a clear ErrBadBackup for each broken
// backup, with the target store left as it was.
func TestRestoreRejectsBadBackups(t *testing.T) {
	ctx := context.Background()
	eachBackend(t, func(t *testing.T, s *Store, _ string) {
		fill(t, s)
		good := backupOf(t, s)
		want := snapshot(t, s)
		lines := func(text string) []string { return strings.SplitAfter(text, "\n") }
		for _, tc := range []struct {
			name   string
			backup []byte
			msg    string
		}{
			{"not gzip", []byte("id,type\n1,dns\n"), "not a gzip-compressed"},
			{"gzip but not json", rewrite(t, good, func(string) string { return "hello\n" }), "header"},
			{"truncated bytes", good[:len(good)/2], ""},
			{"no end line", rewrite(t, good, func(s string) string {
				l := lines(s)
				return strings.Join(l[:len(l)-2], "")
			}), "truncated"},
			{"a row missing", rewrite(t, good, func(s string) string {
				l := lines(s)
				return strings.Join(append(l[:2:2], l[3:]...), "")
			}), "the end line says"},
			{"newer version", rewrite(t, good, func(s string) string {
				return strings.Replace(s, `"version":1`, `"version":2`, 1)
			}), "format version 2"},
			{"a table without columns", rewrite(t, good, func(s string) string {
				return strings.Replace(s, `"tables":{`, `"tables":{"x":[],`, 1)
			}), "unknown table"},
			{"a known table without columns", rewrite(t, good, func(s string) string {
				return strings.Replace(s, `"api_keys":["id",`, `"api_keys":[],"x":["id",`, 1)
			}), ""},
			{"measurements without columns", rewrite(t, good, func(s string) string {
				return regexp.MustCompile(`"measurements":\[[^]]*\]`).ReplaceAllString(s, `"measurements":[]`)
			}), "has no columns"},
			{"a column twice", rewrite(t, good, func(s string) string {
				return strings.Replace(s, `"client_id"`, `"target"`, 1)
			}), "named twice"},
			{"unknown column", rewrite(t, good, func(s string) string {
				return strings.Replace(s, `"client_id"`, `"client; DROP TABLE x"`, 1)
			}), "unknown column"},
			{"bad status", rewrite(t, good, func(s string) string {
				return strings.Replace(s, `"finished"`, `"done"`, 1)
			}), `status "done"`},
			{"bad result JSON", rewrite(t, good, func(s string) string {
				return strings.Replace(s, `"{\"hops\":[`, `"{\"hops\":`, 1)
			}), "column result: not valid JSON"},
			{"wrong type", rewrite(t, good, func(s string) string {
				return strings.Replace(s, `"status"`, `"created_at"`, 1)
			}), ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				err := s.Restore(ctx, bytes.NewReader(tc.backup))
				if err == nil {
					t.Fatal("Restore succeeded, want an error")
				}
				if tc.msg != "" && (!errors.Is(err, ErrBadBackup) || !strings.Contains(err.Error(), tc.msg)) {
					t.Errorf("Restore error = %v, want ErrBadBackup saying %q", err, tc.msg)
				}
				if got := snapshot(t, s); !reflect.DeepEqual(got, want) {
					t.Errorf("a failed restore changed the store:\n got %+v\nwant %+v", got, want)
				}
			})
		}
	})
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
