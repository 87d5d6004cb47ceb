package cli

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"

	"github.com/dnsscience/dnsscience/internal/dnsq"
)

// runDigTrace resolves iteratively from the root and prints each step as
// dig +trace does; with --all-servers it also prints what the servers
// disagreed on, and exits 1 when they did.
func runDigTrace(ctx context.Context, e *env, o *digOptions, p *digPlan) error {
	if len(p.queries) == 0 {
		return usageErr("--trace needs a name")
	}
	if len(p.queries) > 1 {
		return usageErr("--trace follows one name and type at a time; got %d queries", len(p.queries))
	}
	q := p.queries[0]
	roots, rootPort, err := parseRoots(o.roots)
	if err != nil {
		return usageErr("%v", err)
	}
	tr := &dnsq.Tracer{Client: p.client, Roots: roots, Port: rootPort, AllServers: o.allServers, DNSSEC: q.DO}
	if o.port != 0 {
		tr.Port = o.port
	}
	if !e.json {
		fmt.Fprintf(e.stdout, "\n; <<>> dnsscience %s <<>> +trace %s %s\n", Version, strings.TrimSuffix(q.Name, "."), dnsq.TypeString(q.Type))
	}
	onStep := func(s dnsq.TraceStep) {
		if !e.json {
			renderTraceStep(e.stdout, s)
		}
	}
	res, traceErr := tr.Trace(ctx, q.Name, q.Type, onStep)
	if e.json {
		if err := writeJSON(e.stdout, res); err != nil {
			return err
		}
	} else {
		renderFindings(e.stdout, res.Findings, o.allServers)
	}
	if traceErr != nil {
		return failErr(traceErr)
	}
	if o.allServers && len(res.Findings) > 0 {
		return errSilentFail
	}
	return nil
}

func renderTraceStep(w io.Writer, s dnsq.TraceStep) {
	for _, r := range s.Records {
		fmt.Fprintln(w, recordLine(r))
	}
	for _, g := range s.Glueless {
		fmt.Fprintf(w, ";; %s has no glue: resolved separately from the root\n", g)
	}
	fmt.Fprintf(w, ";; Received %d bytes from %s(%s) in %d ms\n", s.Size, s.Addr, s.Server, int(s.RTTMs))
	if len(s.DNSKEY) > 0 {
		fmt.Fprintf(w, ";; DNSKEY of %s from %s(%s):\n", s.Zone, s.Addr, s.Server)
		for _, r := range s.DNSKEY {
			fmt.Fprintln(w, recordLine(r))
		}
	}
	fmt.Fprintln(w)
}

// recordLine renders a JSON-form record in dig's columns.
func recordLine(r dnsq.Record) string {
	return dnsq.Columns(r.Name, strconv.FormatUint(uint64(r.TTL), 10), r.Class, r.Type) + r.Data
}

func renderFindings(w io.Writer, fs []dnsq.Finding, all bool) {
	if len(fs) == 0 {
		if all {
			fmt.Fprintln(w, ";; All servers: every name server on the path answered and agreed.")
		}
		return
	}
	fmt.Fprintf(w, ";; Findings: %d\n", len(fs))
	for _, f := range fs {
		srv := ""
		if f.Server != "" {
			srv = " " + f.Server
		}
		fmt.Fprintf(w, ";; %-16s %s%s: %s\n", f.Kind, f.Zone, srv, f.Detail)
	}
}

// parseRoots reads --roots: empty (shipped hints), a hints file, or a
// comma-separated list of host[:port]. A port given there becomes the port
// of every server in the trace.
func parseRoots(s string) ([]dnsq.NSHost, int, error) {
	if s == "" {
		return nil, 0, nil
	}
	if _, err := os.Stat(s); err == nil {
		hosts, err := dnsq.LoadRootHints(s)
		return hosts, 0, err
	}
	var hosts []dnsq.NSHost
	port := 0
	for _, part := range strings.Split(s, ",") {
		host := strings.TrimSpace(part)
		if h, p, err := net.SplitHostPort(host); err == nil {
			n, err := strconv.Atoi(p)
			if err != nil || n < 1 || n > 65535 {
				return nil, 0, fmt.Errorf("--roots: bad port in %q; want 1 to 65535", part)
			}
			host, port = h, n
		}
		a, err := netip.ParseAddr(host)
		if err != nil {
			return nil, 0, fmt.Errorf("--roots: %q is neither a hints file nor an IP address[:port]", part)
		}
		hosts = append(hosts, dnsq.NSHost{Name: host, Addrs: []netip.Addr{a}})
	}
	return hosts, port, nil
}
