package store

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"strings"
	"testing"
)

// FuzzReadBackupInfo feeds arbitrary backup text (gzip'd here, so the fuzzer
// works on the JSON Lines) to the backup reader: it may not panic, and for a
// backup it accepts every table has a count and a well-formed INSERT.
// (Restore itself is not fuzzed here: coverage instrumentation of the
// transpiled SQLite makes each run far too slow; TestRestoreRejectsBadBackups
// covers it.)
func FuzzReadBackupInfo(f *testing.F) {
	s := openStore(f, backends()[0].url(f))
	fill(f, s)
	var buf bytes.Buffer
	if err := s.Backup(context.Background(), &buf); err != nil {
		f.Fatal(err)
	}
	zr, err := gzip.NewReader(&buf)
	if err != nil {
		f.Fatal(err)
	}
	valid, _ := io.ReadAll(zr)
	f.Add(valid)
	f.Add([]byte(`{"format":"dnsscience-backup","version":1,"tables":{"api_keys":["id"]}}` + "\n" + `{"end":true}` + "\n"))
	f.Add([]byte(`{"format":"dnsscience-backup","version":1,"tables":{"measurements":["id","created_at"]}}` + "\n" +
		`{"table":"measurements","row":["x",1e30]}` + "\n"))
	f.Add([]byte("{}\n"))
	f.Fuzz(func(t *testing.T, text []byte) {
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		zw.Write(text)
		zw.Close()
		br, closer, err := newBackupReader(bytes.NewReader(gz.Bytes()))
		if err != nil {
			return
		}
		defer closer.Close()
		for _, tb := range br.tables {
			if q := insertSQL(tb); strings.Count(q, "?") != len(tb.cols) || len(tb.cols) == 0 {
				t.Errorf("insertSQL(%+v) = %q", tb, q)
			}
		}
		info, err := ReadBackupInfo(bytes.NewReader(gz.Bytes()))
		if err != nil {
			return
		}
		for name := range info.Tables {
			if _, ok := info.Counts[name]; !ok {
				t.Errorf("accepted backup has no count for table %s: %+v", name, info)
			}
		}
	})
}
