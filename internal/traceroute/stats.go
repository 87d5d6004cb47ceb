package traceroute

import (
	"math"
	"time"
)

// Stats summarises the probes of one hop, as mtr does. Times are in
// milliseconds; they are zero while nothing has answered.
type Stats struct {
	Sent     int `json:"sent"`     // probes resolved (answered or timed out)
	Received int `json:"received"` // probes answered
	// RateLimited counts the unanswered probes of a hop that answers
	// (sometimes) while later hops answered probes sent at the same time:
	// the router forwarded the path's packets but chose not to answer. They
	// are not loss.
	RateLimited int `json:"rate_limited"`
	// LossPct is the share of probes sent that were lost on the path:
	// unanswered and not rate-limited. A hop that never answered has 100.
	LossPct  float64 `json:"loss_pct"`
	LastMS   float64 `json:"last_ms"`
	AvgMS    float64 `json:"avg_ms"`
	BestMS   float64 `json:"best_ms"`
	WorstMS  float64 `json:"worst_ms"`
	StdDevMS float64 `json:"stddev_ms"`
	// JitterMS is the mean absolute difference between consecutive RTTs
	// (mtr's "Javg").
	JitterMS float64 `json:"jitter_ms"`
}

// accumulator keeps running sums for Stats (Welford's method for the
// standard deviation).
type accumulator struct {
	sent, recv int
	fwd        int // unanswered while a later hop answered in the same round
	mean, m2   float64
	best       float64
	worst      float64
	last       float64
	jitterSum  float64
}

// lost counts an unanswered probe; forwarded says a later hop answered in
// the same round (so the path was up: the drop is the router's choice).
func (a *accumulator) lost(forwarded bool) {
	a.sent++
	if forwarded {
		a.fwd++
	}
}

// rateLimited is the number of drops put down to rate limiting: those with
// the path forwarding, at a hop that answers at all.
func (a *accumulator) rateLimited() int {
	if a.recv == 0 {
		return 0
	}
	return a.fwd
}

// state is the hop's State.
func (a *accumulator) state() string {
	switch {
	case a.recv == 0:
		return StateSilent
	case a.rateLimited() > 0:
		return StateRateLimited
	}
	return StateAnswered
}

func (a *accumulator) add(rtt time.Duration) {
	ms := float64(rtt.Microseconds()) / 1000
	if a.recv > 0 {
		a.jitterSum += math.Abs(ms - a.last)
	}
	a.sent++
	a.recv++
	d := ms - a.mean
	a.mean += d / float64(a.recv)
	a.m2 += d * (ms - a.mean)
	if a.recv == 1 || ms < a.best {
		a.best = ms
	}
	if ms > a.worst {
		a.worst = ms
	}
	a.last = ms
}

// worstRTT is the largest RTT answered so far (0 before any answer).
func (a *accumulator) worstRTT() time.Duration {
	return time.Duration(a.worst * float64(time.Millisecond))
}

func (a *accumulator) stats() Stats {
	s := Stats{Sent: a.sent, Received: a.recv, RateLimited: a.rateLimited()}
	if a.sent > 0 {
		s.LossPct = round3(100 * float64(a.sent-a.recv-s.RateLimited) / float64(a.sent))
	}
	if a.recv == 0 {
		return s
	}
	s.LastMS, s.AvgMS, s.BestMS, s.WorstMS = a.last, round3(a.mean), a.best, a.worst
	if a.recv > 1 {
		s.StdDevMS = round3(math.Sqrt(a.m2 / float64(a.recv-1)))
		s.JitterMS = round3(a.jitterSum / float64(a.recv-1))
	}
	return s
}

func round3(f float64) float64 { return math.Round(f*1000) / 1000 }
