package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"testing"

	"github.com/dnsscience/dnsscience/internal/dnsq"
	"github.com/dnsscience/dnsscience/internal/dnstest"
)

const bulkZone = `
$TTL 3600
@       IN SOA ns1.example.test. hostmaster.example.test. 2026112201 7200 3600 1209600 300
@       IN NS  ns1.example.test.
ns1     IN A   127.0.0.1
www     IN A   192.0.2.10
mail    IN MX  10 www
`

// testEnv is an env writing to buffers; terminal says whether stderr is a
// terminal.
func testEnv(stdin string, terminal bool) (*env, *bytes.Buffer, *bytes.Buffer) {
	var out, errb bytes.Buffer
	return &env{
		stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb,
		log:        slog.New(slog.NewTextHandler(io.Discard, nil)),
		isTerminal: func(io.Writer) bool { return terminal },
	}, &out, &errb
}

func bulkServer(t *testing.T) []dnsq.Server {
	t.Helper()
	s := dnstest.Start(t, dnstest.NewZone(t, "example.test.", bulkZone))
	srv, err := dnsq.ParseServer(s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	return []dnsq.Server{srv}
}

func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// jsonLines parses JSON Lines into generic objects.
func jsonLines(t *testing.T, b []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q is not JSON: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

func TestRunBulkWritesJSONLinesAndSummary(t *testing.T) {
	names := writeFile(t, "names.txt", "# names\nwww.example.test\nmail.example.test MX\nnope.example.test\nbad..name\n")
	e, stdout, stderr := testEnv("", false)
	err := runBulk(context.Background(), e, bulkRequest{File: names, Servers: bulkServer(t)})
	if err != nil {
		t.Fatalf("runBulk: %v (stderr %s)", err, stderr)
	}
	lines := jsonLines(t, stdout.Bytes())
	if len(lines) != 4 {
		t.Fatalf("got %d JSON lines, want 4:\n%s", len(lines), stdout)
	}
	byLine := map[float64]map[string]any{}
	for _, l := range lines {
		byLine[l["line"].(float64)] = l
	}
	www := byLine[2]
	wantKeys := []string{"answer", "line", "name", "rcode", "rtt_ms", "server", "transport", "tries", "type"}
	if got := slices.Sorted(maps.Keys(www)); !slices.Equal(got, wantKeys) {
		t.Errorf("keys %v, want %v (the schema in docs/JSON.md)", got, wantKeys)
	}
	ans := www["answer"].([]any)[0].(map[string]any)
	if www["rcode"] != "NOERROR" || ans["data"] != "192.0.2.10" || ans["type"] != "A" || ans["ttl"].(float64) != 3600 {
		t.Errorf("www: got %v", www)
	}
	if byLine[3]["type"] != "MX" || byLine[4]["rcode"] != "NXDOMAIN" {
		t.Errorf("got %v and %v, want an MX answer and NXDOMAIN", byLine[3], byLine[4])
	}
	if e := byLine[5]["error"]; !strings.Contains(e.(string), "invalid line") {
		t.Errorf("bad..name: got error %v, want invalid line", e)
	}
	want := ";; 4 names in "
	if !strings.HasPrefix(stderr.String(), want) || !strings.Contains(stderr.String(), "NOERROR 2 (50.0%), NXDOMAIN 1 (25.0%)") ||
		!strings.Contains(stderr.String(), "invalid lines 1 (25.0%)") {
		t.Errorf("summary:\n%s\nwant it to start %q with NOERROR 2 (50.0%%), NXDOMAIN 1 (25.0%%), invalid lines 1", stderr, want)
	}
}

func TestRunBulkStdinToFileWithJSONSummary(t *testing.T) {
	e, stdout, stderr := testEnv("www.example.test\nwww.example.test AAAA\n", true)
	e.json = true
	out := filepath.Join(t.TempDir(), "out.jsonl")
	err := runBulk(context.Background(), e, bulkRequest{File: "-", Servers: bulkServer(t), Output: out, Concurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout got %q; want results in the output file only", stdout)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if lines := jsonLines(t, b); len(lines) != 2 {
		t.Errorf("output file holds %d lines, want 2", len(lines))
	}
	// stderr is a "terminal" here: the progress line is cleared, then the
	// summary comes as JSON.
	errOut := stderr.String()
	i := strings.Index(errOut, "{")
	if i < 0 || !strings.Contains(errOut[:i], "\r\033[K") {
		t.Fatalf("stderr %q: want a cleared progress line, then JSON", errOut)
	}
	var sum dnsq.BulkSummary
	if err := json.Unmarshal([]byte(errOut[i:]), &sum); err != nil {
		t.Fatalf("summary is not JSON: %v\n%s", err, errOut[i:])
	}
	if sum.Names != 2 || sum.NoError.Count != 2 || sum.NoError.Share != 1 || sum.Queries != 2 {
		t.Errorf("summary %+v: want 2 names, both NOERROR, 2 queries", sum)
	}
}

func TestRunBulkProgressLine(t *testing.T) {
	var b strings.Builder
	for range 50 {
		b.WriteString("www.example.test\n")
	}
	names := writeFile(t, "names.txt", b.String())
	in, err := os.Open(names)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	var w bytes.Buffer
	cr := &countingReader{r: in}
	p := &progress{w: &w, in: cr, size: int64(b.Len())}
	_, _ = io.Copy(io.Discard, cr)
	for range 50 {
		p.add(dnsq.BulkResult{Rcode: "NOERROR"})
	}
	p.add(dnsq.BulkResult{Error: "timeout"})
	p.draw()
	want := "[####################] 100% 51 names"
	if !strings.Contains(w.String(), want) || !strings.Contains(w.String(), "NOERROR 50  NXDOMAIN 0  timeout 1") {
		t.Errorf("progress %q: want %q and the counts", w.String(), want)
	}
}

func TestRunBulkUsageErrors(t *testing.T) {
	srv := []dnsq.Server{{Transport: dnsq.UDP, Addr: "127.0.0.1:53"}}
	for _, tc := range []struct {
		req  bulkRequest
		want string
	}{
		{bulkRequest{Servers: srv}, "no names file"},
		{bulkRequest{File: "/nonexistent/names.txt", Servers: srv}, "cannot read names file"},
		{bulkRequest{File: "-"}, "no server"},
		{bulkRequest{File: "-", Servers: srv, Concurrency: -3}, "bad --concurrency -3"},
		{bulkRequest{File: "-", Servers: srv, Concurrency: 1 << 20}, "want 1 to 20000"},
		{bulkRequest{File: "-", Servers: srv, Rate: -1}, "bad --rate -1"},
		{bulkRequest{File: "-", Servers: srv, Threads: -1}, "bad --threads -1: want 1 to 256"},
		{bulkRequest{File: "-", Servers: srv, Threads: 300}, "bad --threads 300"},
	} {
		e, _, _ := testEnv("", false)
		err := runBulk(context.Background(), e, tc.req)
		var xe *exitError
		if !errors.As(err, &xe) || xe.code != ExitUsage || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: got %v, want a usage error containing %q", tc.req, err, tc.want)
		}
	}
	// An output file that cannot be created is not a usage error.
	e, _, _ := testEnv("www.example.test\n", false)
	err := runBulk(context.Background(), e, bulkRequest{File: "-", Servers: srv, Output: "/nonexistent/dir/out.jsonl"})
	var xe *exitError
	if err == nil || errors.As(err, &xe) {
		t.Errorf("got %v, want a plain error (exit status 3)", err)
	}
}

// TestBulkRuntimeTuning: a bulk run uses the threads asked for and the
// bulk collector settings, and leaves the process as it found it.
func TestBulkRuntimeTuning(t *testing.T) {
	procs := runtime.GOMAXPROCS(0)
	restore := tuneRuntime(1)
	gotProcs := runtime.GOMAXPROCS(0)
	gotGC := debug.SetGCPercent(bulkGCPercent)
	gotLimit := debug.SetMemoryLimit(-1) // -1 reads the limit
	restore()
	if gotProcs != 1 || gotGC != bulkGCPercent || gotLimit != bulkMemoryLimit {
		t.Errorf("during the run: GOMAXPROCS %d, GC percent %d, memory limit %d; want 1, %d, %d", gotProcs, gotGC, gotLimit, bulkGCPercent, bulkMemoryLimit)
	}
	if runtime.GOMAXPROCS(0) != procs {
		t.Errorf("GOMAXPROCS %d after the run, want %d restored", runtime.GOMAXPROCS(0), procs)
	}
	if gc := debug.SetGCPercent(100); gc == bulkGCPercent {
		t.Errorf("GC percent left at %d", gc)
	} else {
		debug.SetGCPercent(gc)
	}
	// 0 leaves the process's thread count alone.
	restore = tuneRuntime(0)
	if n := runtime.GOMAXPROCS(0); n != procs {
		t.Errorf("--threads 0: GOMAXPROCS %d, want %d", n, procs)
	}
	restore()
}
