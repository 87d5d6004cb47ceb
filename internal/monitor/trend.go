package monitor

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/dnsscience/dnsscience/internal/store"
)

// The check list's trends: minutes of sparkline and days of uptime bars.
const (
	SparkMinutes = 60
	UptimeDays   = 90
)

// Trend is a check's recent runs for the dashboard, oldest first, the last
// being the current minute or day (UTC), NaN (null in JSON) where there
// were no runs.
type Trend struct {
	// Spark is the mean duration (ms) of the runs of each of the last 60 minutes.
	Spark Values `json:"spark"`
	// UptimeDays is the share of passed runs (warned ones included) of
	// each of the last 90 days.
	UptimeDays Values `json:"uptime_days"`
}

// Values are numbers, NaN for none: a JSON array of numbers and nulls
// (without a pointer per value to allocate and collect).
type Values []float64

// MarshalJSON writes the values, null for NaN.
func (vs Values) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 2+8*len(vs))
	b = append(b, '[')
	for i, v := range vs {
		if i > 0 {
			b = append(b, ',')
		}
		switch {
		case math.IsNaN(v):
			b = append(b, "null"...)
		case math.IsInf(v, 0):
			return nil, fmt.Errorf("trend value %v is not a number", v)
		default:
			b = strconv.AppendFloat(b, v, 'f', -1, 64)
		}
	}
	return append(b, ']'), nil
}

// minuteSlot is one minute's runs; at numbers the minute since the epoch.
type minuteSlot struct {
	sumUS int64
	at    int32
	n, ok int32
}

// daySlot is one UTC day's runs; at numbers the day since the epoch.
type daySlot struct {
	at, n, ok int32
}

// trends are a check's last minutes and days in two rings indexed by the
// bucket's number: a slot holding an older bucket counts as empty.
type trends struct {
	minutes [SparkMinutes]minuteSlot
	days    [UptimeDays]daySlot
}

const secondsPerDay = 24 * 60 * 60

func minuteNo(t time.Time) int32 { return int32(floorDiv(t.Unix(), 60)) }

func dayNo(t time.Time) int32 { return int32(floorDiv(t.Unix(), secondsPerDay)) }

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b < 0 {
		q--
	}
	return q
}

// slot is where bucket number no goes in a ring of size slots.
func slot(no int32, size int) int { return int((int64(no)%int64(size) + int64(size)) % int64(size)) }

// addMinute counts n runs, ok passed, taking sum, in minute number no; a
// minute older than the one its slot holds is out of the window, dropped.
func (t *trends) addMinute(no, n, ok int32, sum time.Duration) {
	s := &t.minutes[slot(no, SparkMinutes)]
	if s.at < no || s.n == 0 {
		*s = minuteSlot{at: no}
	}
	if s.at == no {
		s.n, s.ok, s.sumUS = s.n+n, s.ok+ok, s.sumUS+sum.Microseconds()
	}
}

// addDay counts n runs, ok passed, in day number no, as addMinute.
func (t *trends) addDay(no, n, ok int32) {
	s := &t.days[slot(no, UptimeDays)]
	if s.at < no || s.n == 0 {
		*s = daySlot{at: no}
	}
	if s.at == no {
		s.n, s.ok = s.n+n, s.ok+ok
	}
}

// observe counts one run started at at as store.Rollup.Observe does:
// passed unless failed, its duration summed.
func (t *trends) observe(at time.Time, outcome string, d time.Duration) {
	ok := int32(1)
	if outcome == OutcomeFail {
		ok = 0
	}
	t.addMinute(minuteNo(at), 1, ok, d)
	t.addDay(dayNo(at), 1, ok)
}

// fill writes the trends at now into tr, NaN where there were no runs.
func (t *trends) fill(now time.Time, tr *Trend) {
	first := minuteNo(now) - SparkMinutes + 1
	for i, at := 0, slot(first, SparkMinutes); i < SparkMinutes; i, at = i+1, at+1 {
		if at == SparkMinutes {
			at = 0
		}
		tr.Spark[i] = math.NaN()
		if s := &t.minutes[at]; s.at == first+int32(i) && s.n > 0 {
			tr.Spark[i] = float64(s.sumUS) / 1000 / float64(s.n)
		}
	}
	first = dayNo(now) - UptimeDays + 1
	for i, at := 0, slot(first, UptimeDays); i < UptimeDays; i, at = i+1, at+1 {
		if at == UptimeDays {
			at = 0
		}
		tr.UptimeDays[i] = math.NaN()
		if s := &t.days[at]; s.at == first+int32(i) && s.n > 0 {
			tr.UptimeDays[i] = float64(s.ok) / float64(s.n)
		}
	}
}

// windowRatio is the runs of an uptime window and how many passed.
type windowRatio struct {
	window   string
	runs, ok int64
}

// uptimeWindows are the windows of dnsscience_check_uptime_ratio read from
// the rings: the last 60 minutes, and the last N UTC days, today included.
var uptimeWindows = []struct {
	name string
	days int32 // 0: the minute ring
}{{"1h", 0}, {"7d", 7}, {"30d", 30}, {"90d", 90}}

// uptime sums the rings into the uptime windows at now.
func (t *trends) uptime(now time.Time) []windowRatio {
	out := make([]windowRatio, len(uptimeWindows))
	firstMinute := minuteNo(now) - SparkMinutes + 1
	today := dayNo(now)
	for i, w := range uptimeWindows {
		out[i].window = w.name
		if w.days == 0 {
			for _, s := range t.minutes {
				if s.at >= firstMinute && s.n > 0 {
					out[i].runs, out[i].ok = out[i].runs+int64(s.n), out[i].ok+int64(s.ok)
				}
			}
			continue
		}
		for _, s := range t.days {
			if s.at > today-w.days && s.at <= today && s.n > 0 {
				out[i].runs, out[i].ok = out[i].runs+int64(s.n), out[i].ok+int64(s.ok)
			}
		}
	}
	return out
}

// Trends returns the trends of the checks with these ids, in order, at one
// instant, from memory (no store access); a check not watched has none.
func (m *Monitor) Trends(ids []string) []Trend {
	ws := make([]*watched, len(ids))
	m.mu.RLock()
	for i, id := range ids {
		ws[i] = m.checks[id]
	}
	m.mu.RUnlock()
	now := m.clock.Now()
	const per = SparkMinutes + UptimeDays
	out := make([]Trend, len(ids))
	vals := make([]float64, per*len(ids))
	var none trends
	for i, w := range ws {
		v := vals[i*per : (i+1)*per : (i+1)*per]
		out[i] = Trend{Spark: v[:SparkMinutes:SparkMinutes], UptimeDays: v[SparkMinutes:]}
		if w == nil {
			none.fill(now, &out[i])
			continue
		}
		w.mu.Lock()
		w.trends.fill(now, &out[i])
		w.mu.Unlock()
	}
	return out
}

// restoreTrends reads this location's rollups of the trends' windows,
// minutes then days, into a trend per check, for the checks watched next.
func (m *Monitor) restoreTrends(ctx context.Context) (map[string]*trends, error) {
	now := m.clock.Now()
	out := map[string]*trends{}
	get := func(id string) *trends {
		t := out[id]
		if t == nil {
			t = &trends{}
			out[id] = t
		}
		return t
	}
	minute := bucketOf(store.LevelMinute, now)
	err := m.cfg.Store.EachRollupCount(ctx, m.cfg.Location, store.LevelMinute, minute.Add(-(SparkMinutes-1)*time.Minute),
		minute.Add(time.Minute), func(c store.RollupCount) {
			get(c.CheckID).addMinute(minuteNo(c.Bucket), int32(c.N), int32(c.OK), c.Sum)
		})
	if err != nil {
		return nil, fmt.Errorf("restoring check trends: %w", err)
	}
	day := bucketOf(store.LevelDay, now)
	err = m.cfg.Store.EachRollupCount(ctx, m.cfg.Location, store.LevelDay, day.AddDate(0, 0, -(UptimeDays-1)),
		day.AddDate(0, 0, 1), func(c store.RollupCount) {
			get(c.CheckID).addDay(dayNo(c.Bucket), int32(c.N), int32(c.OK))
		})
	if err != nil {
		return nil, fmt.Errorf("restoring check trends: %w", err)
	}
	return out, nil
}
