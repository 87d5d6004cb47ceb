package graphql

import (
	"encoding/json"
	"fmt"

	"github.com/dnsscience/dnsscience/internal/monitor"
)

// errNoMonitor is the REST face's answer when monitoring is off.
var errNoMonitor = &NotFound{What: "monitoring is off: start the server with --checks PATH (a suite file or a directory)"}

func (r *Resolver) monitor() (*monitor.Monitor, error) {
	if r.opt.Monitor == nil {
		return nil, errNoMonitor
	}
	return r.opt.Monitor, nil
}

// jsonValue is v as the JSON scalar shows it: what the REST face writes.
func jsonValue(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encoding %T: %w", v, err)
	}
	return rawJSON(b)
}

// asn is an AS number, nil when unknown (0).
func asn(n uint32) *int {
	if n == 0 {
		return nil
	}
	v := int(n)
	return &v
}

// pointers lists pointers to copies of xs.
func pointers[T any](xs []T) []*T {
	out := make([]*T, len(xs))
	for i := range xs {
		out[i] = &xs[i]
	}
	return out
}

func nonNil(xs []string) []string {
	if xs == nil {
		return []string{}
	}
	return xs
}
