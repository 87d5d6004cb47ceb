package server

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dnsscience/dnsscience/internal/dnsq"
	"github.com/dnsscience/dnsscience/internal/measure"
	"github.com/dnsscience/dnsscience/internal/monitor"
	"github.com/dnsscience/dnsscience/internal/store"
)

// checkRoutes are the monitor's routes: checks with their state and
// history, the public status page's data and SVG badges.
func (s *Server) checkRoutes() []route {
	h := s.handle
	return []route{
		{method: "GET", pattern: "/api/v1/checks", handler: h(s.listChecks)},
		{method: "POST", pattern: "/api/v1/checks", handler: h(s.admin(s.createCheck))},
		{method: "GET", pattern: "/api/v1/checks/{id}", handler: h(s.getCheck)},
		{method: "PUT", pattern: "/api/v1/checks/{id}", handler: h(s.admin(s.replaceCheck))},
		{method: "PATCH", pattern: "/api/v1/checks/{id}", handler: h(s.admin(s.patchCheck))},
		{method: "DELETE", pattern: "/api/v1/checks/{id}", handler: h(s.admin(s.deleteCheck))},
		{method: "GET", pattern: "/api/v1/checks/{id}/results", handler: h(s.getCheckResults)},
		{method: "GET", pattern: "/api/v1/checks/{id}/transitions", handler: h(s.getCheckTransitions)},
		{method: "GET", pattern: "/api/v1/checks/{id}/uptime", handler: h(s.getCheckUptime)},
		{method: "GET", pattern: "/api/v1/checks/{id}/series", handler: h(s.getCheckSeries)},
		{method: "POST", pattern: "/api/v1/checks/{id}/run", handler: h(s.admin(s.runCheck))},
		{method: "GET", pattern: "/api/v1/status", handler: h(s.getStatus)},
		{method: "GET", pattern: "/badge/{id}/{what}", handler: h(s.getBadge)},
	}
}

// attachMonitor gives the monitor the server's measurement environment and
// its metrics to /metrics.
func (s *Server) attachMonitor() {
	m := s.cfg.Monitor
	if m == nil {
		return
	}
	m.SetEnv(s.monitorEnv())
	s.metrics.reg.MustRegister(m.Collector())
}

// monitorEnv is measureEnv whose dialer resolves target names through the
// server's own first upstream resolver (UDP or TCP) rather than the
// system's, so watched names resolve as the server's DNS endpoints do.
func (s *Server) monitorEnv() *measure.Env {
	env := s.measureEnv()
	if len(s.cfg.Upstream) == 0 {
		return env
	}
	up := s.cfg.Upstream[0]
	if up.Transport != dnsq.UDP && up.Transport != dnsq.TCP {
		return env
	}
	d := s.cfg.Policy.Dialer()
	d.Base.Resolver = &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var nd net.Dialer
		return nd.DialContext(ctx, network, up.Addr)
	}}
	env.Dialer = d
	return env
}

var errNoMonitor = notFound("monitoring is off: start the server with --checks PATH (a suite file or a directory)")

func (s *Server) mon() (*monitor.Monitor, error) {
	if s.cfg.Monitor == nil {
		return nil, errNoMonitor
	}
	return s.cfg.Monitor, nil
}

// monitorErr maps the monitor's errors to problems.
func monitorErr(err error) error {
	if errors.Is(err, monitor.ErrNoCheck) {
		return notFound(err.Error())
	}
	return err
}

// listChecks answers GET /api/v1/checks[?group=&status=&label=k=v].
func (s *Server) listChecks(w http.ResponseWriter, r *http.Request) error {
	m, err := s.mon()
	if err != nil {
		return err
	}
	q := r.URL.Query()
	var labelKey, labelVal string
	if l := q.Get("label"); l != "" {
		var ok bool
		if labelKey, labelVal, ok = strings.Cut(l, "="); !ok {
			return badRequest(fmt.Sprintf("bad label %q: want NAME=VALUE", l), FieldError{Field: "label", Detail: "want NAME=VALUE"})
		}
	}
	out := []listedCheck{}
	var ids []string
	admin := s.isAdmin(r)
	for _, c := range m.Checks() {
		if !admin {
			c.Definition = nil // its options may hold secrets (headers)
		}
		if g := q.Get("group"); g != "" && c.Group != g {
			continue
		}
		if st := q.Get("status"); st != "" && c.Status != st {
			continue
		}
		if labelKey != "" && c.Labels[labelKey] != labelVal {
			continue
		}
		out = append(out, listedCheck{CheckView: c})
		ids = append(ids, c.ID)
	}
	for i, t := range m.Trends(ids) {
		out[i].Trend = t
	}
	errs := m.ConfigErrors()
	if errs == nil {
		errs = []monitor.FileError{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"checks": out, "errors": errs})
	return nil
}

// listedCheck is a check in the list with its recent trends (kept in
// memory by the monitor: the list reads no history).
type listedCheck struct {
	monitor.CheckView
	monitor.Trend
}

// getCheck answers GET /api/v1/checks/{id}: the check, its state and uptime.
func (s *Server) getCheck(w http.ResponseWriter, r *http.Request) error {
	m, err := s.mon()
	if err != nil {
		return err
	}
	c, err := m.Check(r.PathValue("id"))
	if err != nil {
		return monitorErr(err)
	}
	up, err := m.Uptimes(r.Context(), c.ID)
	if err != nil {
		return err
	}
	if !s.isAdmin(r) {
		c.Definition = nil // its options may hold secrets (headers)
	}
	writeJSON(w, http.StatusOK, struct {
		monitor.CheckView
		Uptime []monitor.Uptime `json:"uptime"`
	}{c, up})
	return nil
}

// resultView is a stored run as the API shows it.
type resultView struct {
	store.CheckResult
	DurationMS float64 `json:"duration_ms"`
	LagMS      float64 `json:"lag_ms"`
}

// getCheckResults answers GET /api/v1/checks/{id}/results: runs, newest
// first, paged with before (the at of the last one seen) and limit.
func (s *Server) getCheckResults(w http.ResponseWriter, r *http.Request) error {
	m, err := s.mon()
	if err != nil {
		return err
	}
	q := r.URL.Query()
	limit, err := queryLimit(q.Get("limit"), 100, 1000)
	if err != nil {
		return err
	}
	var before time.Time
	if b := q.Get("before"); b != "" {
		if before, err = time.Parse(time.RFC3339Nano, b); err != nil {
			return badRequest(fmt.Sprintf("bad before %q: want an RFC 3339 time (the at of the last result seen)", b), FieldError{Field: "before", Detail: "want an RFC 3339 time"})
		}
	}
	failed := q.Get("failed") == "true"
	rs, err := m.Results(r.Context(), r.PathValue("id"), before, limit, failed)
	if err != nil {
		return monitorErr(err)
	}
	out := make([]resultView, len(rs))
	for i, x := range rs {
		out[i] = resultView{x, float64(x.Duration.Microseconds()) / 1000, float64(x.Lag.Microseconds()) / 1000}
	}
	body := map[string]any{"results": out}
	if len(rs) == limit {
		body["next"] = fmt.Sprintf("/api/v1/checks/%s/results?limit=%d&before=%s", r.PathValue("id"), limit, rs[len(rs)-1].At.Format(time.RFC3339Nano))
		if failed {
			body["next"] = body["next"].(string) + "&failed=true"
		}
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}

func queryLimit(v string, def, most int) (int, error) {
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > most {
		return 0, badRequest(fmt.Sprintf("bad limit %q: want a whole number from 1 to %d", v, most), FieldError{Field: "limit", Detail: fmt.Sprintf("want 1 to %d", most)})
	}
	return n, nil
}

// getCheckTransitions answers GET /api/v1/checks/{id}/transitions.
func (s *Server) getCheckTransitions(w http.ResponseWriter, r *http.Request) error {
	m, err := s.mon()
	if err != nil {
		return err
	}
	limit, err := queryLimit(r.URL.Query().Get("limit"), 100, 1000)
	if err != nil {
		return err
	}
	ts, err := m.Transitions(r.Context(), r.PathValue("id"), limit)
	if err != nil {
		return monitorErr(err)
	}
	if ts == nil {
		ts = []store.CheckTransition{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"transitions": ts})
	return nil
}

// getCheckUptime answers GET /api/v1/checks/{id}/uptime.
func (s *Server) getCheckUptime(w http.ResponseWriter, r *http.Request) error {
	m, err := s.mon()
	if err != nil {
		return err
	}
	up, err := m.Uptimes(r.Context(), r.PathValue("id"))
	if err != nil {
		return monitorErr(err)
	}
	writeJSON(w, http.StatusOK, map[string]any{"uptime": up})
	return nil
}

// seriesLevels are the series the API serves: level and span.
var seriesLevels = map[string]struct {
	level string
	span  time.Duration
}{
	"minute": {store.LevelMinute, 3 * time.Hour},
	"hour":   {store.LevelHour, 7 * 24 * time.Hour},
	"day":    {store.LevelDay, 90 * 24 * time.Hour},
}

// getCheckSeries answers GET /api/v1/checks/{id}/series?level=minute|hour|day.
func (s *Server) getCheckSeries(w http.ResponseWriter, r *http.Request) error {
	m, err := s.mon()
	if err != nil {
		return err
	}
	name := r.URL.Query().Get("level")
	if name == "" {
		name = "hour"
	}
	lv, ok := seriesLevels[name]
	if !ok {
		return badRequest(fmt.Sprintf("bad level %q: want minute (3 hours), hour (7 days) or day (90 days)", name), FieldError{Field: "level", Detail: "want minute, hour or day"})
	}
	bs, err := m.Series(r.Context(), r.PathValue("id"), lv.level, lv.span)
	if err != nil {
		return monitorErr(err)
	}
	writeJSON(w, http.StatusOK, map[string]any{"level": name, "buckets": bs})
	return nil
}

// runCheck answers POST /api/v1/checks/{id}/run: a run now, outside the schedule.
func (s *Server) runCheck(w http.ResponseWriter, r *http.Request) error {
	queued, err := s.runCheckNow(r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"queued": queued})
	return nil
}

// statusCheck is a public check on the status page.
type statusCheck struct {
	ID     string           `json:"id"`
	Name   string           `json:"name"`
	Status string           `json:"status"`
	Since  time.Time        `json:"since"`
	Days   []monitor.Bucket `json:"days"`
	Uptime *float64         `json:"uptime_90d"`
}

// getStatus answers GET /api/v1/status: the public checks by group with
// 90 days of daily uptime, and those not up (current incidents).
func (s *Server) getStatus(w http.ResponseWriter, r *http.Request) error {
	m, err := s.mon()
	if err != nil {
		return err
	}
	type group struct {
		Name   string        `json:"name"`
		Checks []statusCheck `json:"checks"`
	}
	groups := []group{}
	incidents := []statusCheck{}
	for _, c := range m.Checks() {
		if !c.Public {
			continue
		}
		days, err := m.Series(r.Context(), c.ID, store.LevelDay, 90*24*time.Hour)
		if err != nil {
			return err
		}
		sc := statusCheck{ID: c.ID, Name: c.Name, Status: c.Status, Since: c.Since, Days: days}
		var runs, passed int64
		for _, d := range days {
			runs, passed = runs+d.Runs, passed+d.Passed
		}
		if runs > 0 {
			u := float64(passed) / float64(runs)
			sc.Uptime = &u
		}
		if n := len(groups); n == 0 || groups[n-1].Name != c.Group {
			groups = append(groups, group{Name: c.Group})
		}
		groups[len(groups)-1].Checks = append(groups[len(groups)-1].Checks, sc)
		if c.Status == monitor.StatusDown || c.Status == monitor.StatusDegraded {
			incidents = append(incidents, sc)
		}
	}
	sort.SliceStable(incidents, func(i, j int) bool { return incidents[i].Since.After(incidents[j].Since) })
	writeJSON(w, http.StatusOK, map[string]any{"groups": groups, "incidents": incidents})
	return nil
}

// badgeColors by status.
var badgeColors = map[string]string{monitor.StatusUp: "#2e7d32", monitor.StatusDegraded: "#f9a825",
	monitor.StatusDown: "#c62828", monitor.StatusPending: "#757575", monitor.StatusMaintenance: "#1565c0"}

// getBadge answers GET /badge/{id}/{what}: an SVG badge of a public
// check: state, uptime-24h, uptime-7d, uptime-30d, response or cert.
func (s *Server) getBadge(w http.ResponseWriter, r *http.Request) error {
	m, err := s.mon()
	if err != nil {
		return err
	}
	c, err := m.Check(r.PathValue("id"))
	if err != nil || !c.Public {
		return notFound(fmt.Sprintf("no public check %q", r.PathValue("id")))
	}
	what := strings.TrimSuffix(r.PathValue("what"), ".svg")
	label, value, color := "", "", "#757575"
	switch what {
	case "state":
		label, value, color = c.Name, c.Status, badgeColors[c.Status]
	case "uptime-24h", "uptime-7d", "uptime-30d":
		window := strings.TrimPrefix(what, "uptime-")
		label, value = "uptime "+window, "no data"
		ups, err := m.Uptimes(r.Context(), c.ID)
		if err != nil {
			return err
		}
		for _, u := range ups {
			if u.Window == window && u.Ratio != nil {
				value, color = fmt.Sprintf("%.2f%%", 100**u.Ratio), uptimeColor(*u.Ratio)
			}
		}
	case "response":
		label, value = "response", "no data"
		if c.Last != nil {
			value, color = fmt.Sprintf("%.0f ms", c.Last.DurationMS), "#2e7d32"
		}
	case "cert":
		label, value = "certificate", "no data"
		if c.CertExpiry != nil {
			days := int(time.Until(*c.CertExpiry).Hours() / 24)
			value, color = fmt.Sprintf("%d days", days), "#2e7d32"
			if days < 14 {
				color = "#c62828"
			}
		}
	default:
		return notFound(fmt.Sprintf("no badge %q: want state, uptime-24h, uptime-7d, uptime-30d, response or cert", what))
	}
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Cache-Control", "no-cache, max-age=0")
	_, err = w.Write([]byte(badgeSVG(label, value, color)))
	return err
}

func uptimeColor(r float64) string {
	switch {
	case r >= 0.999:
		return "#2e7d32"
	case r >= 0.99:
		return "#f9a825"
	}
	return "#c62828"
}

// badgeSVG draws a two-part badge; widths from an average glyph width.
func badgeSVG(label, value, color string) string {
	lw, vw := 10+7*len(label), 10+7*len(value)
	l, v := html.EscapeString(label), html.EscapeString(value)
	return fmt.Sprintf(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="20" role="img" aria-label="%s: %s">`+
		`<title>%s: %s</title><rect width="%d" height="20" fill="#555"/><rect x="%d" width="%d" height="20" fill="%s"/>`+
		`<g fill="#fff" text-anchor="middle" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11">`+
		`<text x="%d" y="14">%s</text><text x="%d" y="14">%s</text></g></svg>`,
		lw+vw, l, v, l, v, lw, lw, vw, color, lw/2, l, lw+vw/2, v)
}
