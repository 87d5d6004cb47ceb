package config

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dnsscience/dnsscience/internal/ratelimit"
	"github.com/dnsscience/dnsscience/internal/server"
)

// rateLimitClasses are the classes a rate_limits entry may name.
func rateLimitClasses() []string { return server.RateLimitClasses() }

// parseRateLimit parses one rate_limits value, CLASS=N/WINDOW: N requests
// per WINDOW, a Go duration (30s, 1m, 1h) or a bare unit (s, m, h).
func parseRateLimit(v string) (ratelimit.Policy, error) {
	class, quota, ok := strings.Cut(v, "=")
	classes := rateLimitClasses()
	if !ok || !slices.Contains(classes, class) {
		return ratelimit.Policy{}, fmt.Errorf("want CLASS=N/WINDOW such as dns=600/1m, with CLASS one of %s", strings.Join(classes, ", "))
	}
	n, window, ok := strings.Cut(quota, "/")
	limit, err := strconv.Atoi(n)
	if !ok || err != nil || limit < 1 {
		return ratelimit.Policy{}, errors.New("want a whole number of requests of at least 1 before the /, such as dns=600/1m")
	}
	d, err := parseWindow(window)
	if err != nil {
		return ratelimit.Policy{}, err
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

// parseLogLevel maps a log_level to a slog level.
func parseLogLevel(s string) (slog.Level, error) {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug, nil
	case "info":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, errors.New("want debug, info, warn or error")
}

// parseDays parses a duration that may use a d (days) suffix: 30d, 12h, 0.
func parseDays(s string) (time.Duration, error) {
	if s == "0" {
		return 0, nil
	}
	bad := errors.New("want a number of days such as 30d, or a duration such as 720h (0 keeps everything)")
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n < 0 {
			return 0, bad
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	dur, err := time.ParseDuration(s)
	if err != nil || dur < 0 {
		return 0, bad
	}
	return dur, nil
}
