package server

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dnsscience/dnsscience/internal/measure"
	"github.com/dnsscience/dnsscience/internal/runner"
	"github.com/dnsscience/dnsscience/internal/store"
	"github.com/dnsscience/dnsscience/internal/traceroute"
)

// The fan-out test runs the server in this process and its stream
// subscribers in a child process (this test binary again, running
// TestStreamFanoutClients), so that this process's memory is the server's.
// Latency is publish → receive, both sides reading the same wall clock.

const (
	fanoutURLEnv  = "DNSSCIENCE_FANOUT_URL"
	fanoutSubsEnv = "DNSSCIENCE_FANOUT_SUBS"
)

// fanoutHop is a trace hop as the stream carries it, stamped with when it
// was published.
type fanoutHop struct {
	TTL         int                  `json:"ttl"`
	Addrs       []traceroute.HopAddr `json:"addrs"`
	Probes      []traceroute.Probe   `json:"probes"`
	Stats       traceroute.Stats     `json:"stats"`
	PublishedNS int64                `json:"published_ns"`
}

// fanoutReport is what the child prints: per-subscriber hop counts and
// whether each saw the hops in order and the final result, and the
// latencies of every delivery.
type fanoutReport struct {
	Subscribers int       `json:"subscribers"`
	Complete    int       `json:"complete"` // saw every hop in order, then result
	Errors      []string  `json:"errors,omitempty"`
	LatencyMs   []float64 `json:"latency_ms"`
}

// fanoutStats is the outcome of one fan-out run.
type fanoutStats struct {
	report           fanoutReport
	p50, p99, max    time.Duration
	rssMB, peakRSSMB float64
	heapMB           float64
	heapPerSubKB     float64
}

// runFanout starts a server, a measurement of `hops` hops published every
// gap once `subs` subscribers are attached, and the child subscribers.
func runFanout(tb testing.TB, subs, hops int, gap time.Duration) fanoutStats {
	tb.Helper()
	var run funcDispatcher
	ts := startServer(tb, Config{Dispatchers: map[string]runner.Dispatcher{"local": &run}})
	s := ts.srv
	var st fanoutStats
	runtime.GC()
	heapBefore := heapInuse()
	attached := make(chan struct{})
	var m store.Measurement
	created := make(chan struct{})
	run = func(ctx context.Context, emit measure.Emit) (any, error) {
		<-created
		deadline := time.Now().Add(60 * time.Second)
		for s.subscribers(m.ID) < subs {
			if time.Now().After(deadline) {
				return nil, fmt.Errorf("only %d of %d subscribers attached", s.subscribers(m.ID), subs)
			}
			time.Sleep(10 * time.Millisecond)
		}
		close(attached)
		runtime.GC()
		st.heapMB = float64(heapInuse()) / (1 << 20)
		st.heapPerSubKB = float64(heapInuse()-heapBefore) / 1024 / float64(subs)
		st.rssMB = procStatusMB("VmRSS")
		for ttl := 1; ttl <= hops; ttl++ {
			time.Sleep(gap)
			emit("hop", hopAt(ttl))
		}
		return map[string]any{"hops": hops}, nil
	}
	if resp := ts.post(tb, `{"type":"trace","target":"192.0.2.77"}`, nil, &m); resp.StatusCode != 202 {
		tb.Fatalf("creating the measurement: %d", resp.StatusCode)
	}
	close(created)

	cmd := exec.Command(os.Args[0], "-test.run=^TestStreamFanoutClients$", "-test.v")
	cmd.Env = append(os.Environ(), fanoutURLEnv+"="+ts.URL+"/api/v1/measurements/"+m.ID+"/stream", fanoutSubsEnv+"="+strconv.Itoa(subs))
	out, err := cmd.Output()
	if err != nil {
		tb.Fatalf("subscribers: %v\n%s", err, out)
	}
	select {
	case <-attached:
	default:
		tb.Fatal("the subscribers never all attached")
	}
	line, ok := lineWithPrefix(string(out), "FANOUT ")
	if !ok {
		tb.Fatalf("no report from the subscribers:\n%s", out)
	}
	if err := json.Unmarshal([]byte(line), &st.report); err != nil {
		tb.Fatalf("bad report %q: %v", line, err)
	}
	st.peakRSSMB = procStatusMB("VmHWM")
	lat := slices.Clone(st.report.LatencyMs)
	slices.Sort(lat)
	if len(lat) > 0 {
		at := func(q float64) time.Duration {
			return time.Duration(lat[min(len(lat)-1, int(q*float64(len(lat))))] * float64(time.Millisecond))
		}
		st.p50, st.p99, st.max = at(0.50), at(0.99), at(1)
	}
	return st
}

func hopAt(ttl int) fanoutHop {
	addr := netip.AddrFrom4([4]byte{10, 9, byte(ttl), 1})
	return fanoutHop{TTL: ttl,
		Addrs:       []traceroute.HopAddr{{Addr: addr, Name: fmt.Sprintf("hop%d.core.example.net", ttl), ASN: 64500, ASOrg: "Example Transit", City: "Frankfurt", Country: "DE"}},
		Probes:      []traceroute.Probe{{Addr: addr}, {Addr: addr}, {Addr: addr}},
		PublishedNS: time.Now().UnixNano()}
}

// subscribers counts the live subscribers of a measurement's stream.
func (s *Server) subscribers(id string) int { return s.svc.Subscribers(id) }

// funcDispatcher runs a function in place of the measurement.
type funcDispatcher func(ctx context.Context, emit measure.Emit) (any, error)

func (f *funcDispatcher) Dispatch(ctx context.Context, _ *measure.Plan, emit measure.Emit) (any, error) {
	return (*f)(ctx, emit)
}

func (f *funcDispatcher) Online() (bool, string) { return true, "" }

func heapInuse() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// procStatusMB reads a memory line (VmRSS, VmHWM) of /proc/self/status;
// 0 where there is none.
func procStatusMB(field string) float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	line, ok := lineWithPrefix(string(b), field+":")
	if !ok {
		return 0
	}
	kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(line), " kB"), 64)
	return kb / 1024
}

func lineWithPrefix(text, prefix string) (string, bool) {
	for l := range strings.Lines(text) {
		if rest, ok := strings.CutPrefix(l, prefix); ok {
			return strings.TrimSpace(rest), true
		}
	}
	return "", false
}

// TestStreamFanout: 200 subscribers of one trace each receive every hop,
// in order, then the result.
func TestStreamFanout(t *testing.T) {
	const subs, hops = 200, 10
	st := runFanout(t, subs, hops, 5*time.Millisecond)
	r := st.report
	if r.Subscribers != subs || r.Complete != subs || len(r.LatencyMs) != subs*hops {
		t.Errorf("%d subscribers, %d complete, %d deliveries; want %d, %d, %d; errors: %v",
			r.Subscribers, r.Complete, len(r.LatencyMs), subs, subs, subs*hops, r.Errors)
	}
}

// BenchmarkStreamSubscribers1000 reports, for 1,000 SSE subscribers of one
// trace of 30 hops published 20 ms apart: delivery latency (publish →
// receive) p50/p99/max, the server process's RSS with all attached and its
// peak, and the heap held per subscriber.
func BenchmarkStreamSubscribers1000(b *testing.B) {
	const subs, hops = 1000, 30
	for b.Loop() {
		st := runFanout(b, subs, hops, 20*time.Millisecond)
		if st.report.Complete != subs {
			b.Fatalf("%d of %d subscribers got every event: %v", st.report.Complete, subs, st.report.Errors)
		}
		b.ReportMetric(float64(st.p50.Microseconds())/1000, "p50_ms")
		b.ReportMetric(float64(st.p99.Microseconds())/1000, "p99_ms")
		b.ReportMetric(float64(st.max.Microseconds())/1000, "max_ms")
		b.ReportMetric(st.rssMB, "rss_MB")
		b.ReportMetric(st.peakRSSMB, "peak_rss_MB")
		b.ReportMetric(st.heapPerSubKB, "heap_KB/sub")
	}
}

// TestStreamFanoutClients is the subscriber side, run as a child process
// by runFanout; on its own it skips.
func TestStreamFanoutClients(t *testing.T) {
	target := os.Getenv(fanoutURLEnv)
	if target == "" {
		t.Skip("the subscriber side of TestStreamFanout; runs only as its child process")
	}
	n, _ := strconv.Atoi(os.Getenv(fanoutSubsEnv))
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu  sync.Mutex
		rep = fanoutReport{Subscribers: n}
		wg  sync.WaitGroup
	)
	for range n {
		conn, err := net.Dial("tcp", u.Host)
		if err != nil {
			t.Fatalf("connecting: %v", err)
		}
		fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nAccept: text/event-stream\r\n\r\n", u.RequestURI(), u.Host)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer conn.Close()
			lat, err := readStream(conn)
			mu.Lock()
			defer mu.Unlock()
			rep.LatencyMs = append(rep.LatencyMs, lat...)
			if err != nil {
				rep.Errors = append(rep.Errors, err.Error())
				return
			}
			rep.Complete++
		}()
	}
	wg.Wait()
	b, _ := json.Marshal(rep)
	fmt.Printf("FANOUT %s\n", b)
}

// readStream reads one SSE response (chunked) up to its result event and
// returns the latency of each hop; it fails on hops out of order.
func readStream(conn net.Conn) ([]float64, error) {
	_ = conn.SetReadDeadline(time.Now().Add(2 * time.Minute))
	br := bufio.NewReader(conn)
	var lat []float64
	var event string
	next := 1
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return lat, fmt.Errorf("reading after hop %d: %w", next-1, err)
		}
		line = strings.TrimRight(line, "\r\n")
		if strings.HasPrefix(line, "HTTP/1.1 ") && !strings.HasPrefix(line, "HTTP/1.1 200") {
			return lat, fmt.Errorf("status %s", line)
		}
		if e, ok := strings.CutPrefix(line, "event: "); ok {
			event = e
			continue
		}
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			continue
		}
		switch event {
		case "hop":
			now := time.Now().UnixNano()
			// Only what the check needs: decoding whole hops would make the
			// subscribers, not the server, the bottleneck on a small machine.
			var h struct {
				TTL         int   `json:"ttl"`
				PublishedNS int64 `json:"published_ns"`
			}
			if err := json.Unmarshal([]byte(data), &h); err != nil {
				return lat, fmt.Errorf("hop %d: %w", next, err)
			}
			if h.TTL != next {
				return lat, fmt.Errorf("hop %d arrived where %d was due", h.TTL, next)
			}
			next++
			lat = append(lat, float64(now-h.PublishedNS)/1e6)
		case "result":
			return lat, nil
		}
	}
}
