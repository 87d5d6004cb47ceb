package monitor

import (
	"sort"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dnsscience/dnsscience/internal/check"
	"github.com/dnsscience/dnsscience/internal/dnsq"
)

// stats are the monitor's own metrics.
type stats struct {
	checks       prometheus.Gauge
	lag          prometheus.Histogram
	skipped      prometheus.Counter
	runs         *prometheus.CounterVec
	configErrors prometheus.Gauge
	reloads      prometheus.Counter
	flushErrors  prometheus.Counter
}

func newStats() stats {
	return stats{
		checks: prometheus.NewGauge(prometheus.GaugeOpts{Name: "dnsscience_monitor_checks", Help: "Checks watched now."}),
		lag: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "dnsscience_monitor_lag_seconds",
			Help:    "How late runs start after their scheduled time.",
			Buckets: []float64{.0001, .0005, .001, .005, .01, .05, .1, .5, 1, 5}}),
		skipped: prometheus.NewCounter(prometheus.CounterOpts{Name: "dnsscience_monitor_skipped_runs_total",
			Help: "Runs skipped: the previous run of the check still going, the queue full or the scheduler late."}),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "dnsscience_monitor_runs_total",
			Help: "Runs of every check by outcome (ok, warn, fail)."}, []string{"outcome"}),
		configErrors: prometheus.NewGauge(prometheus.GaugeOpts{Name: "dnsscience_monitor_config_errors",
			Help: "Suite files that failed to load at the last reload (their previous checks are kept)."}),
		reloads: prometheus.NewCounter(prometheus.CounterOpts{Name: "dnsscience_monitor_reloads_total",
			Help: "Looks at the suite files for changes."}),
		flushErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "dnsscience_monitor_store_errors_total",
			Help: "Failed writes of monitor results to the store."}),
	}
}

// sample is what a run gives to the per-check metrics.
type sample struct {
	at          time.Time
	success     bool
	duration    time.Duration
	dnsTime     time.Duration
	hasDNS      bool
	httpStatus  float64
	phases      map[string]time.Duration
	certExpiry  time.Time
	chainExpiry time.Time
	wsClose     float64
	hasWS       bool
	// resolvers are a propagation run's answers per resolver, agree
	// whether they agreed (hasAgree: the run compared resolvers).
	resolvers []resolverSample
	agree     bool
	hasAgree  bool
}

// resolverSample is one resolver's answer in a propagation run.
type resolverSample struct {
	name     string
	answered bool
	answers  int
	rtt      time.Duration
}

// sampleOf reads a run's values.
func sampleOf(r check.Result, at time.Time) sample {
	s := sample{at: at, success: r.Pass, duration: r.Duration}
	if r.Values == nil {
		return s
	}
	v := r.Values.M
	dur := func(k string) (time.Duration, bool) { d, ok := v[k].(time.Duration); return d, ok }
	if d, ok := dur("timings.dns"); ok {
		s.dnsTime, s.hasDNS = d, true
	} else if d, ok := dur("dns.rtt"); ok {
		s.dnsTime, s.hasDNS = d, true
	}
	if st, ok := v["status"].(float64); ok {
		s.httpStatus = st
		s.phases = map[string]time.Duration{}
		// blackbox_exporter's phases, from our timings.
		for phase, key := range map[string]string{"resolve": "timings.dns", "connect": "timings.connect", "tls": "timings.tls", "processing": "timings.first_byte"} {
			if d, ok := dur(key); ok {
				s.phases[phase] = d
			}
		}
	}
	if d, ok := dur("cert.expires_in"); ok {
		s.certExpiry = at.Add(d)
	}
	if d, ok := dur("cert.chain_expires_in"); ok {
		s.chainExpiry = at.Add(d)
	}
	if c, ok := v["ws.close_code"].(float64); ok {
		s.wsClose, s.hasWS = c, true
	}
	if p, ok := r.Probe.(*dnsq.PropagationResult); ok && p != nil {
		s.agree, s.hasAgree = p.Consistent, true
		seen := map[string]bool{}
		for _, a := range p.Results {
			if seen[a.Resolver] {
				continue // listed twice: one series
			}
			seen[a.Resolver] = true
			s.resolvers = append(s.resolvers, resolverSample{name: a.Resolver, answered: a.Error == "" && a.Group >= 0,
				answers: len(a.Answers), rtt: time.Duration(a.RTTMs * float64(time.Millisecond))})
		}
		sort.Slice(s.resolvers, func(i, j int) bool { return s.resolvers[i].name < s.resolvers[j].name })
	}
	return s
}

// Collector returns the monitor's metrics: its own and, per check, the
// blackbox_exporter names where the meaning matches (probe_success,
// probe_duration_seconds, probe_dns_lookup_time_seconds,
// probe_http_status_code, probe_http_duration_seconds{phase},
// probe_ssl_earliest_cert_expiry, probe_ssl_last_chain_expiry_timestamp_seconds)
// and dnsscience_check_* for the rest, labelled check, group, kind,
// location and the checks' own labels (every check carries every label
// name used by any check, empty where it has none).
func (m *Monitor) Collector() prometheus.Collector { return collector{m} }

type collector struct{ m *Monitor }

func (collector) Describe(chan<- *prometheus.Desc) {} // unchecked: the label names follow the checks

// stateNames are the states, sorted (as the registry sorts the series).
var stateNames = []string{StatusDegraded, StatusDown, StatusMaintenance, StatusPending, StatusUp}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	m := c.m
	for _, x := range []prometheus.Collector{m.stats.checks, m.stats.lag, m.stats.skipped, m.stats.runs, m.stats.configErrors, m.stats.reloads, m.stats.flushErrors} {
		x.Collect(ch)
	}
	m.mu.RLock()
	ws := make([]*watched, 0, len(m.checks))
	extra := map[string]bool{}
	for _, w := range m.checks {
		ws = append(ws, w)
		for k := range w.c.Watch.Labels {
			extra[k] = true
		}
	}
	m.mu.RUnlock()
	// In the order the registry sorts each family in (by label values,
	// check first): sorting what is already sorted costs one pass.
	sort.Slice(ws, func(i, j int) bool { return ws[i].id < ws[j].id })
	names := []string{"check", "group", "kind", "location"}
	var extraNames []string
	for k := range extra {
		extraNames = append(extraNames, k)
	}
	sort.Strings(extraNames)
	names = append(names, extraNames...)
	d := newDescs(names)
	now := m.clock.Now()
	for _, w := range ws {
		w.mu.Lock()
		c, st, s := w.c, w.state, w.sample
		up := w.trends.uptime(now)
		w.mu.Unlock()
		vals := []string{w.id, c.Watch.Group, c.Kind, m.cfg.Location}
		for _, k := range extraNames {
			vals = append(vals, c.Watch.Labels[k])
		}
		d.emit(ch, vals, st, s)
		d.emitUptime(ch, vals, up)
	}
}

type descs struct {
	success, duration, dns, status, phase, cert, chain, ws, state, lastRun *prometheus.Desc
	agree, answered, answers, rtt, uptime                                  *prometheus.Desc
}

func newDescs(labels []string) descs {
	nd := func(name, help string, extra ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, append(append([]string{}, labels...), extra...), nil)
	}
	return descs{
		success:  nd("probe_success", "Whether the check's last run passed (1) or not (0)."),
		duration: nd("probe_duration_seconds", "How long the check's last run took."),
		dns:      nd("probe_dns_lookup_time_seconds", "DNS time of the last run (the lookup of an HTTP, TLS or WebSocket check, the query of a DNS check)."),
		status:   nd("probe_http_status_code", "HTTP status of the last run of an HTTP check (0 without a response)."),
		phase:    nd("probe_http_duration_seconds", "Duration of each phase of the last HTTP run: resolve, connect, tls, processing (to the first byte).", "phase"),
		cert:     nd("probe_ssl_earliest_cert_expiry", "When the served leaf certificate expires, in Unix seconds."),
		chain:    nd("probe_ssl_last_chain_expiry_timestamp_seconds", "When the first certificate of the served chain expires, in Unix seconds."),
		ws:       nd("dnsscience_check_ws_close_code", "WebSocket close code of the last run (0 when none)."),
		state:    nd("dnsscience_check_state", "The check's state: 1 for the current one of up, down, degraded, pending, maintenance.", "state"),
		lastRun:  nd("dnsscience_check_last_run_timestamp_seconds", "When the check last ran, in Unix seconds."),
		agree:    nd("dnsscience_check_dns_resolvers_agree", "Whether every resolver of the last propagation run gave the same answer, none failing and nothing expected missing (1) or not (0)."),
		answered: nd("dnsscience_check_dns_resolver_answered", "Whether the resolver answered in the last propagation run (1) or failed: timeout, SERVFAIL, REFUSED (0).", "resolver"),
		answers:  nd("dnsscience_check_dns_resolver_answers", "How many answer records the resolver gave in the last propagation run.", "resolver"),
		rtt:      nd("dnsscience_check_dns_resolver_rtt_seconds", "The resolver's round-trip time in the last propagation run.", "resolver"),
		uptime:   nd("dnsscience_check_uptime_ratio", "Share of passed runs (degraded ones included) in the window: 1h (the last 60 minutes), 7d, 30d, 90d (the last N UTC days, today included); absent without runs.", "window"),
	}
}

// emitUptime writes the uptime ratios of the windows with runs.
func (d descs) emitUptime(ch chan<- prometheus.Metric, vals []string, up []windowRatio) {
	sort.Slice(up, func(i, j int) bool { return up[i].window < up[j].window })
	for _, u := range up {
		if u.runs > 0 {
			ch <- prometheus.MustNewConstMetric(d.uptime, prometheus.GaugeValue, float64(u.ok)/float64(u.runs), append(append([]string{}, vals...), u.window)...)
		}
	}
}

func (d descs) emit(ch chan<- prometheus.Metric, vals []string, st State, s sample) {
	gauge := func(desc *prometheus.Desc, v float64, extra ...string) {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, v, append(append([]string{}, vals...), extra...)...)
	}
	for _, name := range stateNames {
		v := 0.0
		if st.Status == name {
			v = 1
		}
		gauge(d.state, v, name)
	}
	if s.at.IsZero() {
		return
	}
	gauge(d.lastRun, float64(s.at.UnixMilli())/1000)
	gauge(d.success, map[bool]float64{true: 1}[s.success])
	gauge(d.duration, s.duration.Seconds())
	if s.hasDNS {
		gauge(d.dns, s.dnsTime.Seconds())
	}
	if s.phases != nil {
		gauge(d.status, s.httpStatus)
		phases := make([]string, 0, len(s.phases))
		for p := range s.phases {
			phases = append(phases, p)
		}
		sort.Strings(phases)
		for _, p := range phases {
			gauge(d.phase, s.phases[p].Seconds(), p)
		}
	}
	if !s.certExpiry.IsZero() {
		gauge(d.cert, float64(s.certExpiry.Unix()))
	}
	if s.hasAgree {
		gauge(d.agree, map[bool]float64{true: 1}[s.agree])
		for _, r := range s.resolvers {
			gauge(d.answered, map[bool]float64{true: 1}[r.answered], r.name)
			gauge(d.answers, float64(r.answers), r.name)
			if r.answered {
				gauge(d.rtt, r.rtt.Seconds(), r.name)
			}
		}
	}
	if !s.chainExpiry.IsZero() {
		gauge(d.chain, float64(s.chainExpiry.Unix()))
	}
	if s.hasWS {
		gauge(d.ws, s.wsClose)
	}
}
