package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/dnsscience/dnsscience/internal/diagnose"
	"github.com/dnsscience/dnsscience/internal/dnsq"
	"github.com/dnsscience/dnsscience/internal/measure"
	"github.com/spf13/cobra"
)

func newDiagnoseCmd(e *env) *cobra.Command {
	var (
		resolvers []string
		expectIP  []string
		ca        string
		insecure  bool
		timeout   time.Duration
		noTrace   bool
		noSystem  bool
		warnDays  int
		connectTo []string
		roots     string
		private   []string
		linger    time.Duration
		noLinger  bool
		strict    bool
	)
	cmd := &cobra.Command{
		Use:   "diagnose URL",
		Short: "Walk DNS → TCP → TLS → HTTP → WebSocket and name the first layer that fails",
		Long: `Diagnose a URL layer by layer: DNS through the system resolver and the
--resolvers (NXDOMAIN, SERVFAIL, timeouts, disagreement, --expect-ip); when DNS
fails, a delegation trace from the root says where; then for each address a
TCP connect, the TLS handshake and certificate (https, wss), the HTTP request
(http, https) or the WebSocket upgrade (ws, wss), waiting --linger (1s) for
the server to close. One line per layer with its evidence, then a verdict
naming the first failing layer, the likely cause and what to check next.
--timeout bounds each layer: DNS (resolvers and the delegation trace together),
TCP, TLS, HTTP; the WebSocket layer gets the timeout plus the linger. Internal
names (.test, .internal, .corp, home.arpa, single labels, --private-zone) are
never sent to the public root servers: give your own with --roots.
Exit status 0 healthy (warnings allowed unless --strict), 1 a layer failed.`,
		Example: `  dnsscience diagnose https://api.example.com/health
  dnsscience diagnose https://api-staging.example.com/ --resolvers 1.1.1.1,8.8.8.8 --expect-ip 203.0.113.10
  dnsscience diagnose wss://api.example.com/socket --json
  dnsscience diagnose api.example.com:8443 --ca internal-ca.pem
  dnsscience diagnose https://api-staging.example.com/health --connect-to 203.0.113.10
  dnsscience diagnose wss://api.example.com/socket --linger 3s --strict
  dnsscience diagnose https://app.corp.example/ --private-zone corp.example --roots 10.0.0.53`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if warnDays < 0 {
				return usageErr("bad --warn-days %d: want 0 (no expiry warning) or more days", warnDays)
			}
			if cmd.Flags().Changed("linger") && linger == 0 {
				noLinger = true // an explicit --linger 0 does not wait
			}
			if linger < 0 {
				return usageErr("bad --linger %s: want a duration of 0 or more (--no-linger does not wait)", linger)
			}
			if timeout <= 0 {
				return usageErr("bad --timeout %s: want a positive duration such as 5s", timeout)
			}
			rootList, err := rootEntries(roots)
			if err != nil {
				return usageErr("%v", err)
			}
			pf := probeFlags{ca: ca}
			trust, err := pf.trust()
			if err != nil {
				return err
			}
			trust.Insecure = insecure
			o := &measure.DiagnoseOptions{TrustOptions: trust, Resolvers: resolvers, NoSystem: noSystem, ExpectIP: expectIP,
				ConnectTo: connectTo, Timeout: measure.Duration(timeout), NoTrace: noTrace, WarnDays: &warnDays,
				Linger: measure.Duration(linger), NoLinger: noLinger, Strict: strict, Roots: rootList, PrivateZones: private}
			out, err := runKind(cmd.Context(), "diagnose", args[0], o, nil, map[string]string{"private_zones": "--private-zone"}, nil)
			if err != nil {
				if errors.Is(err, diagnose.ErrBadRequest) {
					return usageErr("%v", err)
				}
				return err
			}
			res := out.(*diagnose.Result)
			if e.json {
				err = writeJSON(e.stdout, res)
			} else {
				writeDiagnosis(e.stdout, res)
			}
			if err != nil {
				return err
			}
			if !res.OK {
				return errSilentFail
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringSliceVar(&resolvers, "resolvers", nil, "resolvers to ask besides the system's (host[:port], tls://, https://), comma-separated or repeated")
	fl.StringSliceVar(&expectIP, "expect-ip", nil, "addresses the name must resolve to")
	fl.StringVar(&ca, "ca", "", "verify TLS against the CA certificates in this PEM file")
	fl.BoolVarP(&insecure, "insecure", "k", false, "do not verify certificates in the HTTP/WebSocket layers (the TLS layer still reports findings)")
	fl.DurationVar(&timeout, "timeout", 5*time.Second, "bound for each layer")
	fl.BoolVar(&noTrace, "no-trace", false, "skip the delegation trace when DNS fails")
	fl.BoolVar(&noSystem, "no-system", false, "do not ask the system resolver (only --resolvers)")
	fl.IntVar(&warnDays, "warn-days", 14, "warn when the certificate expires within this many days (0: no expiry warning)")
	fl.StringSliceVar(&connectTo, "connect-to", nil, "probe these addresses (a load balancer's) instead of the DNS answers; DNS is still checked")
	fl.StringVar(&roots, "roots", "", "root servers for the delegation trace (comma-separated IP[:port], or a hints file; default: the public root hints, never asked about internal names)")
	fl.StringSliceVar(&private, "private-zone", nil, "zones that exist only inside your network: never sent to the public roots (repeatable)")
	fl.DurationVar(&linger, "linger", 0, "how long the WebSocket layer waits for the server to close after the upgrade (default 1s)")
	fl.BoolVar(&noLinger, "no-linger", false, "do not wait after the WebSocket upgrade; so does --linger 0")
	fl.BoolVar(&strict, "strict", false, "fail on warnings too (a certificate expiring soon, a WebSocket closed at once)")
	return cmd
}

func writeDiagnosis(w io.Writer, res *diagnose.Result) {
	fmt.Fprintf(w, "Diagnosing %s\n", res.URL)
	for _, l := range res.Layers {
		status := strings.ToUpper(string(l.Status))
		if l.Status == diagnose.StatusOK {
			status = "ok"
		}
		addr := ""
		if l.Address != "" {
			addr = l.Address + "  "
		}
		fmt.Fprintf(w, "  %-10s %-5s %s%s\n", diagnose.LayerName(l.Name), status, addr, l.Evidence)
		if l.Name == "dns" && res.DNS != nil {
			writeDNSAnswers(w, res.DNS)
		}
	}
	v := res.Verdict
	if v == nil {
		writeHealthy(w, res)
		return
	}
	where := ""
	if v.Address != "" {
		where = " at " + v.Address
	}
	what := "failed"
	if v.Status == diagnose.StatusWarn {
		what = "warning (--strict)"
	}
	fmt.Fprintf(w, "Verdict: %s %s%s\n", diagnose.LayerName(v.Layer), what, where)
	fmt.Fprintf(w, "  problem:      %s\n", v.Problem)
	fmt.Fprintf(w, "  likely cause: %s\n", v.Cause)
	fmt.Fprintf(w, "  next:         %s\n", v.Next)
}

// writeHealthy ends a healthy diagnosis, naming the warnings left.
func writeHealthy(w io.Writer, res *diagnose.Result) {
	var warned []string
	for _, l := range res.Layers {
		if l.Status == diagnose.StatusWarn {
			warned = append(warned, diagnose.LayerName(l.Name))
		}
	}
	if len(warned) == 0 {
		fmt.Fprintln(w, "Verdict: healthy, every layer answered")
		return
	}
	fmt.Fprintf(w, "Verdict: healthy, with warnings (%s); --strict fails on them\n", strings.Join(warned, ", "))
	for _, l := range res.Layers {
		if l.Status == diagnose.StatusWarn && l.Next != "" {
			fmt.Fprintf(w, "  %s: %s\n", diagnose.LayerName(l.Name), l.Next)
		}
	}
}

func writeDNSAnswers(w io.Writer, r *diagnose.DNSReport) {
	for _, a := range r.Answers {
		who := a.Resolver
		if a.System {
			who = "system " + who
		}
		got := a.Error
		if got == "" {
			got = strings.TrimSpace(a.Rcode+" "+strings.Join(a.Addresses, ", ")) + " (" + fmtDur(a.RTT) + ")"
		}
		fmt.Fprintf(w, "  %-10s %-5s   %s: %s\n", "", "", who, got)
	}
	if t := r.Trace; t != nil {
		for _, s := range t.Steps {
			fmt.Fprintf(w, "  %-10s %-5s   trace %-8s %s from %s (%s): %s\n", "", "", s.Kind, s.Zone, s.Server, s.Addr, s.Rcode)
		}
	}
}

// rootEntries reads --roots as the registry's roots option: a root hints
// file (its addresses), or a comma-separated list of IP[:port].
func rootEntries(spec string) ([]string, error) {
	if spec == "" {
		return nil, nil
	}
	if _, err := os.Stat(spec); err == nil {
		hosts, err := dnsq.LoadRootHints(spec)
		if err != nil {
			return nil, fmt.Errorf("--roots: %w", err)
		}
		var out []string
		for _, h := range hosts {
			for _, a := range h.Addrs {
				out = append(out, a.String())
			}
		}
		return out, nil
	}
	var out []string
	for _, part := range strings.Split(spec, ",") {
		out = append(out, strings.TrimSpace(part))
	}
	return out, nil
}
