package cli

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/dnsscience/dnsscience/internal/probe"
	"github.com/spf13/cobra"
)

// probeFlags are the flags shared by tcp, cert, http and ws.
type probeFlags struct {
	timeout   time.Duration
	connectTo string
	ca        string
	insecure  bool
	ipv4      bool
	ipv6      bool
}

func (f *probeFlags) add(cmd *cobra.Command, tls bool) {
	fl := cmd.Flags()
	fl.DurationVar(&f.timeout, "timeout", probe.DefaultTimeout, "bound for the whole probe")
	fl.StringVar(&f.connectTo, "connect-to", "", "connect to this ADDRESS (IP or host, optional :port) instead of resolving the target's host")
	fl.BoolVarP(&f.ipv4, "ipv4", "4", false, "connect over IPv4 only")
	fl.BoolVarP(&f.ipv6, "ipv6", "6", false, "connect over IPv6 only")
	if tls {
		fl.StringVar(&f.ca, "ca", "", "verify against the CA certificates in this PEM file instead of the system roots")
	}
}

// finishProbe renders r and maps the outcome to an exit status.
func finishProbe(e *env, r *probe.Result, err error, details func(io.Writer, *probe.Result)) error {
	if err != nil {
		if errors.Is(err, probe.ErrBadRequest) {
			return usageErr("%v", err)
		}
		return err
	}
	if e.json {
		if err := writeJSON(e.stdout, r); err != nil {
			return err
		}
	} else {
		writeProbeText(e.stdout, r, details)
	}
	if !r.OK {
		return errSilentFail
	}
	return nil
}

func writeProbeText(w io.Writer, r *probe.Result, details func(io.Writer, *probe.Result)) {
	status := "OK"
	if !r.OK {
		status = "FAIL"
	}
	fmt.Fprintf(w, "%s %s %s", status, strings.ToUpper(string(r.Kind)), r.Target)
	if r.Address != "" {
		fmt.Fprintf(w, " via %s", r.Address)
	}
	fmt.Fprintln(w)
	if !r.OK {
		fmt.Fprintf(w, "  failed at %s: %s\n", r.Phase, r.Error)
	}
	fmt.Fprintf(w, "  timings: %s\n", timingLine(r.Timings))
	if details != nil {
		details(w, r)
	}
}

func timingLine(t probe.Timings) string {
	parts := []string{}
	for _, p := range []struct {
		name string
		d    time.Duration
	}{{"dns", t.DNS}, {"connect", t.Connect}, {"tls", t.TLS}, {"first byte", t.FirstByte}, {"total", t.Total}} {
		if p.d > 0 || p.name == "total" {
			parts = append(parts, fmt.Sprintf("%s %s", p.name, fmtDur(p.d)))
		}
	}
	return strings.Join(parts, ", ")
}

func fmtDur(d time.Duration) string {
	return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000)
}

func writeHeaders(w io.Writer, h map[string][]string) {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range h[k] {
			fmt.Fprintf(w, "  %s: %s\n", k, v)
		}
	}
}

// parseHeaders turns "Name: value" strings into a header map.
func parseHeaders(hs []string) (map[string][]string, error) {
	out := map[string][]string{}
	for _, h := range hs {
		k, v, ok := strings.Cut(h, ":")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, usageErr("bad header %q: want \"Name: value\"", h)
		}
		k = strings.TrimSpace(k)
		out[k] = append(out[k], strings.TrimSpace(v))
	}
	return out, nil
}
