package cli

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dnsscience/dnsscience/internal/dnsq"
)

// bulkRequest is what `dnsscience dig -f FILE` asks for.
type bulkRequest struct {
	File        string        // names, one per line ("name" or "name TYPE"); "-" means stdin
	Type        uint16        // type for lines that name none; 0 means A
	Servers     []dnsq.Server // servers to ask; each name goes to one of them
	Client      *dnsq.Client  // timeout, tries, TCP retry; nil means the defaults
	Query       dnsq.Query    // template (flags, EDNS); Name and Type are filled per line
	Concurrency int           // names in flight; 0 means 100
	Rate        float64       // queries per second; 0 means no cap
	Output      string        // JSON Lines file; "" or "-" means stdout
	Threads     int           // CPUs the run may use at once (GOMAXPROCS); 0 leaves the process's setting
}

// Garbage collection during a bulk run: the live heap is small and steady
// (the names in flight, a few hundred parsed ahead), so collecting when it
// has grown 4× rather than 2× halves the collector's CPU, and the soft limit
// keeps the process well under 100 MB whatever the input.
const (
	bulkGCPercent   = 400
	bulkMemoryLimit = 64 << 20
)

// tuneRuntime sets the process for a bulk run — threads, and the collector
// as above — and returns what restores the previous settings. One thread
// (dnsperf's default too) is the cheapest per query: the sockets' receivers
// take turns on it instead of idle threads spinning to steal work that a
// loopback server's replies provide a few at a time.
func tuneRuntime(threads int) func() {
	procs := runtime.GOMAXPROCS(0)
	if threads > 0 {
		procs = runtime.GOMAXPROCS(threads)
	}
	gc := debug.SetGCPercent(bulkGCPercent)
	limit := debug.SetMemoryLimit(bulkMemoryLimit)
	return func() {
		runtime.GOMAXPROCS(procs)
		debug.SetGCPercent(gc)
		debug.SetMemoryLimit(limit)
	}
}

// runBulk looks up every name in req.File and writes one JSON object per
// name (docs/JSON.md, "Bulk") to req.Output, then a summary to stderr (JSON
// with --json). A progress line is drawn on stderr when it is a terminal.
// It returns nil when the run completed, whatever the rcodes.
func runBulk(ctx context.Context, e *env, req bulkRequest) error {
	if err := checkBulkRequest(req); err != nil {
		return err
	}
	in, size, closeIn, err := openNames(e, req.File)
	if err != nil {
		return err
	}
	defer closeIn()
	out, closeOut, err := openOutput(e, req.Output)
	if err != nil {
		return err
	}
	defer tuneRuntime(req.Threads)()
	counted := &countingReader{r: in}
	var prog *progress
	if e.isTerminal(e.stderr) {
		prog = startProgress(e.stderr, counted, size)
	}
	w := newJSONLWriter(out)
	sum, runErr := dnsq.Bulk(ctx, dnsq.BulkRequest{
		Input: counted, Type: req.Type, Servers: req.Servers, Query: req.Query, Client: req.Client,
		Concurrency: req.Concurrency, Rate: req.Rate,
	}, func(r dnsq.BulkResult) error {
		prog.add(r)
		return w.write(&r)
	})
	prog.stop()
	if err := w.flush(); err != nil && runErr == nil {
		runErr = fmt.Errorf("writing results: %w", err)
	}
	if err := closeOut(); err != nil && runErr == nil {
		runErr = fmt.Errorf("writing results: %w", err)
	}
	if err := printBulkSummary(e, sum); err != nil && runErr == nil {
		runErr = err
	}
	return runErr
}

// maxBulkThreads bounds --threads.
const maxBulkThreads = 256

func checkBulkRequest(req bulkRequest) error {
	switch {
	case req.File == "":
		return usageErr("no names file: give -f FILE (one name per line, optionally followed by a type), or -f - for stdin")
	case len(req.Servers) == 0:
		return usageErr("no server to ask: give @server or configure one in /etc/resolv.conf")
	case req.Concurrency < 0 || req.Concurrency > dnsq.MaxBulkConcurrency:
		return usageErr("bad --concurrency %d: want 1 to %d (0 means 100)", req.Concurrency, dnsq.MaxBulkConcurrency)
	case req.Threads < 0 || req.Threads > maxBulkThreads:
		return usageErr("bad --threads %d: want 1 to %d", req.Threads, maxBulkThreads)
	case req.Rate < 0:
		return usageErr("bad --rate %g: want queries per second, 0 for no cap", req.Rate)
	}
	return nil
}

// openNames opens the names file (stdin for "-") and returns its size when
// it is a regular file (for the progress percentage), else 0.
func openNames(e *env, file string) (io.Reader, int64, func(), error) {
	if file == "-" {
		return e.stdin, 0, func() {}, nil
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, 0, nil, usageErr("cannot read names file: %v", err)
	}
	var size int64
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		size = st.Size()
	}
	return f, size, func() { f.Close() }, nil
}

func openOutput(e *env, path string) (io.Writer, func() error, error) {
	if path == "" || path == "-" {
		return e.stdout, func() error { return nil }, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, nil, fmt.Errorf("creating output file: %w", err)
	}
	return f, f.Close, nil
}

// jsonlWriter writes one JSON object per line through a buffer that is
// flushed at least every flushEvery, so a reader of a pipe sees results
// while a slow run goes on.
type jsonlWriter struct {
	bw        *bufio.Writer
	buf       []byte
	lastFlush time.Time
}

const flushEvery = 200 * time.Millisecond

func newJSONLWriter(w io.Writer) *jsonlWriter {
	return &jsonlWriter{bw: bufio.NewWriterSize(w, 256*1024), lastFlush: time.Now()}
}

func (w *jsonlWriter) write(r *dnsq.BulkResult) error {
	w.buf = r.AppendJSON(w.buf[:0])
	if _, err := w.bw.Write(w.buf); err != nil {
		return fmt.Errorf("writing results: %w", err)
	}
	if now := time.Now(); now.Sub(w.lastFlush) >= flushEvery {
		w.lastFlush = now
		return w.bw.Flush()
	}
	return nil
}

func (w *jsonlWriter) flush() error { return w.bw.Flush() }

func printBulkSummary(e *env, s dnsq.BulkSummary) error {
	if e.json {
		return writeJSON(e.stderr, s)
	}
	pct := func(sh dnsq.Share) string { return fmt.Sprintf("%d (%.1f%%)", sh.Count, 100*sh.Share) }
	_, err := fmt.Fprintf(e.stderr,
		";; %d names in %.3fs (%.0f names/s), %d queries\n"+
			";; NOERROR %s, NXDOMAIN %s, SERVFAIL %s, other rcodes %s, timeout %s, invalid lines %s, errors %s\n",
		s.Names, s.ElapsedMs/1000, s.NamesPerSec, s.Queries,
		pct(s.NoError), pct(s.NXDomain), pct(s.ServFail), pct(s.OtherRcode), pct(s.Timeout), pct(s.Invalid), pct(s.Error))
	return err
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// progress redraws one status line on a terminal five times a second. A nil
// *progress does nothing.
type progress struct {
	w                       io.Writer
	in                      *countingReader
	size                    int64
	start                   time.Time
	done, noerror, nxdomain atomic.Int64
	timeout, other          atomic.Int64
	quit                    chan struct{}
	wg                      sync.WaitGroup
}

func startProgress(w io.Writer, in *countingReader, size int64) *progress {
	p := &progress{w: w, in: in, size: size, start: time.Now(), quit: make(chan struct{})}
	p.wg.Go(func() {
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-p.quit:
				fmt.Fprint(p.w, "\r\033[K")
				return
			case <-t.C:
				p.draw()
			}
		}
	})
	return p
}

func (p *progress) add(r dnsq.BulkResult) {
	if p == nil {
		return
	}
	p.done.Add(1)
	switch {
	case r.Rcode == "NOERROR":
		p.noerror.Add(1)
	case r.Rcode == "NXDOMAIN":
		p.nxdomain.Add(1)
	case r.Error == "timeout":
		p.timeout.Add(1)
	default:
		p.other.Add(1)
	}
}

func (p *progress) draw() {
	done := p.done.Load()
	rate := float64(done) / time.Since(p.start).Seconds()
	bar := ""
	if p.size > 0 {
		frac := min(1, float64(p.in.n.Load())/float64(p.size))
		const width = 20
		filled := int(frac * width)
		bar = fmt.Sprintf("[%s%s] %3.0f%% ", strings.Repeat("#", filled), strings.Repeat(" ", width-filled), 100*frac)
	}
	fmt.Fprintf(p.w, "\r\033[K%s%d names  %.0f/s  NOERROR %d  NXDOMAIN %d  timeout %d  other %d",
		bar, done, rate, p.noerror.Load(), p.nxdomain.Load(), p.timeout.Load(), p.other.Load())
}

func (p *progress) stop() {
	if p == nil {
		return
	}
	close(p.quit)
	p.wg.Wait()
}
