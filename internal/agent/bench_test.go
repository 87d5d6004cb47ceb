package agent_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/dnsscience/dnsscience/internal/agent"
	"github.com/dnsscience/dnsscience/internal/measure"
	"github.com/dnsscience/dnsscience/internal/runner"
)

// BenchmarkAgents connects 1,000 agents (goroutines, each with its own
// WebSocket and NATS connection through the HTTP server) to one bus, then
// times a geo measurement requested on 100 locations until all 100
// results are stored. It reports the heap per connected agent (both
// ends: the agent's client and the server's connection) and ms per
// 100-location request.
func BenchmarkAgents(b *testing.B) {
	const agents, fanout = 1000, 100
	r := newRigTB(b)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	names := make([]string, agents)
	for i := range agents {
		names[i] = fmt.Sprintf("bench-%04d", i)
		token, _, err := r.st.CreateAgent(ctx, names[i])
		if err != nil {
			b.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = agent.Run(ctx, agent.Config{Server: r.url, Token: token, Env: &measure.Env{}, Heartbeat: 5 * time.Second})
		}()
	}
	for online := 0; online < agents; {
		changed := r.bus.Changed()
		online = 0
		for _, l := range r.bus.Locations() {
			if l.Status == "online" {
				online++
			}
		}
		if online < agents {
			<-changed
		}
	}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	heap := float64(after.HeapInuse-before.HeapInuse) / agents
	goroutines := float64(runtime.NumGoroutine()) / agents
	for i := 0; b.Loop(); i++ {
		locs := make([]string, fanout)
		for j := range fanout {
			locs[j] = names[(i*fanout+j)%agents]
		}
		ms, err := r.svc.CreateEach(ctx, runner.Request{Kind: "geo", Target: "192.0.2.1", Locations: locs})
		if err != nil {
			b.Fatal(err)
		}
		for _, m := range ms {
			_, events, stop, live := r.svc.Subscribe(m.ID)
			if live {
				for range events {
				}
			}
			stop()
		}
	}
	b.StopTimer()
	b.ReportMetric(heap, "heap-B/agent")
	b.ReportMetric(goroutines, "goroutines/agent")
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/100-locations")
}
