package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/dnsscience/dnsscience/internal/dnsq"
	"github.com/dnsscience/dnsscience/internal/dnstest"
	"github.com/dnsscience/dnsscience/internal/netpolicy"
	"github.com/dnsscience/dnsscience/internal/ratelimit"
	"github.com/dnsscience/dnsscience/internal/store"
)

// benchServer builds a server over a loopback upstream with the DNS quota
// raised, for handler benchmarks (no network between client and handler).
func benchServer(b *testing.B) *Server {
	b.Helper()
	up := dnstest.Start(b, dnstest.NewZone(b, "example.test.", testZone))
	srv, err := dnsq.ParseServer(up.Addr)
	if err != nil {
		b.Fatal(err)
	}
	st, err := store.Open(context.Background(), store.SQLiteURL(b.TempDir()))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	s, err := New(Config{Upstream: []dnsq.Server{srv}, Store: st, Policy: netpolicy.AllowAll(),
		RateLimits: WithRateLimits([]ratelimit.Policy{{Name: "dns", Limit: 1 << 30, Window: time.Minute}})}, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Shutdown(context.Background()) })
	return s
}

// benchGet serves GET path through the whole handler (middleware included)
// from parallel goroutines and fails on any status but 200.
func benchGet(b *testing.B, h http.Handler, path string) {
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest("GET", path, nil)
			req.RemoteAddr = "127.0.0.1:40000"
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != http.StatusOK {
				b.Errorf("GET %s: %d %s", path, w.Code, w.Body)
				return
			}
		}
	})
}

func BenchmarkHandlerCachedDNS(b *testing.B) {
	s := benchServer(b)
	h := s.Handler()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/api/v1/dns/www.example.test/A", nil))
	if w.Code != 200 {
		b.Fatalf("warming: %d %s", w.Code, w.Body)
	}
	benchGet(b, h, "/api/v1/dns/www.example.test/A")
}

func BenchmarkHandlerFinishedMeasurement(b *testing.B) {
	s := benchServer(b)
	m := &store.Measurement{Type: "dns", Target: "www.example.test", Status: "finished",
		Result: []byte(`{"rcode":"NOERROR","answer":[{"name":"www.example.test.","type":"A","ttl":120,"data":"192.0.2.10"}]}`)}
	if err := s.store.CreateMeasurement(context.Background(), m); err != nil {
		b.Fatal(err)
	}
	benchGet(b, s.Handler(), "/api/v1/measurements/"+m.ID)
}
