package server

import (
	"slices"

	"github.com/dnsscience/dnsscience/internal/ratelimit"
)

// RateLimitClasses are the classes requests are counted in: the DNS
// endpoint and dns measurements (dns), scan and compare (scan), the geo
// endpoint and geo measurements (geo), tcp/cert/http/ws measurements
// (probe), and propagation, trace and diagnose measurements.
func RateLimitClasses() []string {
	return []string{"diagnose", "dns", "geo", "probe", "propagation", "scan", "trace"}
}

// WithRateLimits returns the default class policies with each of overrides
// replacing (or, for a class without a default such as probe, adding) the
// policy of its class. Callers check the class names against
// RateLimitClasses.
func WithRateLimits(overrides []ratelimit.Policy) []ratelimit.Policy {
	classes, _ := DefaultRateLimits()
	for _, o := range overrides {
		i := slices.IndexFunc(classes, func(p ratelimit.Policy) bool { return p.Name == o.Name })
		if i < 0 {
			classes = append(classes, o)
			continue
		}
		classes[i] = o
	}
	return classes
}
