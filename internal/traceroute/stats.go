package traceroute

import (
	"math"
	"time"
)

// Stats summarises the probes of one hop, as mtr does. Times are in
// milliseconds; they are zero while nothing has answered.
type Stats struct {
	Sent     int     `json:"sent"`     // probes resolved (answered or timed out)
	Received int     `json:"received"` // probes answered
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
	mean, m2   float64
	best       float64
	worst      float64
	last       float64
	jitterSum  float64
}

func (a *accumulator) lost() { a.sent++ }

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

func (a *accumulator) stats() Stats {
	s := Stats{Sent: a.sent, Received: a.recv}
	if a.sent > 0 {
		s.LossPct = round3(100 * float64(a.sent-a.recv) / float64(a.sent))
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
