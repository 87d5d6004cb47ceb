package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics holds the server's Prometheus collectors in its own registry.
type metrics struct {
	reg          *prometheus.Registry
	requests     *prometheus.CounterVec
	duration     *prometheus.HistogramVec
	measurements *prometheus.CounterVec
	rateLimited  *prometheus.CounterVec
	cache        *prometheus.CounterVec
	store        *prometheus.HistogramVec
	inflight     prometheus.Gauge
	subscribers  prometheus.Gauge
}

func newMetrics(version string) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dnsscience_http_requests_total", Help: "HTTP requests by route, method and status code.",
		}, []string{"route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "dnsscience_http_request_duration_seconds", Help: "HTTP request latency by route and method.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"route", "method"}),
		measurements: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dnsscience_measurements_total", Help: "Measurements ended, by type and outcome: finished (healthy) or failed (could not run, or measured a failure such as a broken layer).",
		}, []string{"type", "outcome"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dnsscience_rate_limited_total", Help: "Requests refused by rate limits, by limit class.",
		}, []string{"class"}),
		cache: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dnsscience_cache_requests_total", Help: "Cache look-ups by cache and result (hit, miss).",
		}, []string{"cache", "result"}),
		store: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "dnsscience_store_operation_duration_seconds", Help: "Store operation latency by operation.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10),
		}, []string{"operation"}),
		inflight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "dnsscience_measurements_running", Help: "Measurements running now.",
		}),
		subscribers: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "dnsscience_stream_subscribers", Help: "Live stream subscribers connected now.",
		}),
	}
	build := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "dnsscience_build_info", Help: "Build information; the value is always 1.",
	}, []string{"version"})
	build.WithLabelValues(version).Set(1)
	m.reg.MustRegister(m.requests, m.duration, m.measurements, m.rateLimited, m.cache, m.store, m.inflight, m.subscribers, build,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) observeRequest(route, method string, code int, d time.Duration) {
	if code == 0 {
		code = http.StatusOK
	}
	m.requests.WithLabelValues(route, method, strconv.Itoa(code)).Inc()
	m.duration.WithLabelValues(route, method).Observe(d.Seconds())
}

func (m *metrics) cacheResult(cache string, hit bool) {
	r := "miss"
	if hit {
		r = "hit"
	}
	m.cache.WithLabelValues(cache, r).Inc()
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// observeRun counts runs as the measurement service starts and ends them.
func (m *metrics) observeRun(kind, status string) {
	if status == "running" {
		m.inflight.Inc()
		return
	}
	m.inflight.Dec()
	m.measurements.WithLabelValues(kind, status).Inc()
}
