package cli

import (
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dnsscience/dnsscience/internal/ratelimit"
	"github.com/dnsscience/dnsscience/internal/server"
)

// parseRateLimit parses one --rate-limit value, CLASS=N/WINDOW: N requests
// per WINDOW, a Go duration (30s, 1m, 1h) or a bare unit (s, m, h).
func parseRateLimit(v string) (ratelimit.Policy, error) {
	class, quota, ok := strings.Cut(v, "=")
	classes := server.RateLimitClasses()
	if !ok || !slices.Contains(classes, class) {
		return ratelimit.Policy{}, fmt.Errorf("--rate-limit %q: want CLASS=N/WINDOW such as dns=600/1m, with CLASS one of %s", v, strings.Join(classes, ", "))
	}
	n, window, ok := strings.Cut(quota, "/")
	limit, err := strconv.Atoi(n)
	if !ok || err != nil || limit < 1 {
		return ratelimit.Policy{}, fmt.Errorf("--rate-limit %q: want a whole number of requests of at least 1 before the /, such as dns=600/1m", v)
	}
	d, err := parseWindow(window)
	if err != nil {
		return ratelimit.Policy{}, fmt.Errorf("--rate-limit %q: %v", v, err)
	}
	return ratelimit.Policy{Name: class, Limit: limit, Window: d}, nil
}

func parseWindow(s string) (time.Duration, error) {
	switch s {
	case "s":
		return time.Second, nil
	case "m":
		return time.Minute, nil
	case "h":
		return time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("window %q: want a positive duration such as 1s, 1m or 1h (or s, m, h)", s)
	}
	return d, nil
}

// parseLogLevel maps --log-level to a slog level.
func parseLogLevel(s string) (slog.Level, error) {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug, nil
	case "info", "":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("--log-level %q: want debug, info, warn or error", s)
}
