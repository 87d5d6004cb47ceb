package measure

import (
	"context"
	"fmt"
	"time"

	"github.com/dnsscience/dnsscience/internal/dnsq"
	"github.com/dnsscience/dnsscience/internal/snapshot"
)

// SnapshotOptions are the options of a snapshot measurement.
type SnapshotOptions struct {
	Server     string   `json:"server,omitempty" doc:"server to take the records from (an address such as 192.0.2.53, [2001:db8::53]:53, tcp://host); default the domain's authoritative servers, found through the process's own resolvers"`
	Names      []string `json:"names,omitempty" doc:"names asked when no zone transfer is allowed, relative to the domain (@ is the apex); default the common names of docs/SNAPSHOTS.md" max:"512"`
	Types      []string `json:"types,omitempty" doc:"record types asked of every name instead of the defaults per kind of name" max:"32"`
	NoTransfer bool     `json:"no_transfer,omitempty" doc:"ask the names without trying a zone transfer (AXFR)"`
	Timeout    Duration `json:"timeout,omitempty" doc:"bound on the whole snapshot" max:"120s" default:"30s"`
}

func (o *SnapshotOptions) overall() time.Duration { return o.Timeout.D() }

func snapshotKind() Kind {
	return &spec[SnapshotOptions]{
		info: Info{Name: "snapshot", Summary: "a domain's records, by zone transfer or common names, to compare later",
			Target: "a zone's domain name such as example.com", Class: "scan", Timeout: 122 * time.Second, Connects: true,
			Vars: []string{"snapshot.method", "snapshot.serial", "snapshot.rrsets", "snapshot.records"}},
		prepare: prepareSnapshot,
		values:  valuesOf(snapshotValues),
	}
}

func prepareSnapshot(_ context.Context, env *Env, target string, o *SnapshotOptions) (RunFunc, []string, error) {
	name, _, err := question(target, "")
	if err != nil {
		return nil, nil, err
	}
	tk := &snapshot.Taker{Names: o.Names, NoTransfer: o.NoTransfer, Client: env.dnsClient(false, 0), ResolverClient: env.dnsClient(true, 0)}
	for i, n := range o.Names {
		if n == "@" {
			continue
		}
		if _, err := dnsq.NormalizeName(n); err != nil {
			return nil, nil, fieldErr(fmt.Sprintf("options.names[%d]", i), "%q: %v; give a name relative to the domain (www, _dmarc, @ for the apex)", n, err)
		}
	}
	for i, ts := range o.Types {
		qt, ok := dnsq.ParseType(ts)
		if !ok || qt == 0 {
			return nil, nil, fieldErr(fmt.Sprintf("options.types[%d]", i), "unknown record type %q; want A, AAAA, MX, TXT, TYPEnnn ...", ts)
		}
		tk.Types = append(tk.Types, qt)
	}
	var hosts []string
	if o.Server != "" {
		srv, trusted, err := env.server("options.server", o.Server)
		if err != nil {
			return nil, nil, err
		}
		tk.Servers = []dnsq.Server{srv}
		if trusted {
			tk.Client = tk.ResolverClient
		} else {
			hosts = append(hosts, hostOf(srv.Addr))
		}
	}
	return func(ctx context.Context, _ Emit) (any, error) {
		if len(tk.Servers) == 0 {
			up, err := env.upstream()
			if err != nil {
				return nil, err
			}
			tk.Resolvers = up
		}
		return tk.Take(ctx, name)
	}, hosts, nil
}

func snapshotValues(s *snapshot.Snapshot) *Values {
	return &Values{M: map[string]any{"ok": true, "snapshot.method": s.Method, "snapshot.serial": float64(s.Serial),
		"snapshot.rrsets": float64(len(s.RRsets)), "snapshot.records": float64(s.Records()), "address": s.Server}}
}
