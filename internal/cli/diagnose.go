package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/dnsscience/dnsscience/internal/diagnose"
	"github.com/dnsscience/dnsscience/internal/dnsq"
	"github.com/dnsscience/dnsscience/internal/netpolicy"
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
	)
	cmd := &cobra.Command{
		Use:   "diagnose URL",
		Short: "Walk DNS → TCP → TLS → HTTP → WebSocket and name the first layer that fails",
		Long: `Diagnose a URL layer by layer: DNS through the system resolver and the
--resolvers (NXDOMAIN, SERVFAIL, timeouts, disagreement, --expect-ip); when DNS
fails, a delegation trace from the root says where; then for each address a
TCP connect, the TLS handshake and certificate (https, wss), the HTTP request
(http, https) or the WebSocket upgrade (ws, wss). One line per layer with its
evidence, then a verdict naming the first failing layer, the likely cause and
what to check next. Exit status 0 healthy, 1 a layer failed.`,
		Example: `  dnsscience diagnose https://api.example.com/health
  dnsscience diagnose https://api-staging.example.com/ --resolvers 1.1.1.1,8.8.8.8 --expect-ip 203.0.113.10
  dnsscience diagnose wss://api.example.com/socket --json
  dnsscience diagnose api.example.com:8443 --ca internal-ca.pem
  dnsscience diagnose https://api-staging.example.com/health --connect-to 203.0.113.10`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			req := diagnose.Request{URL: args[0], ExpectIP: expectIP, Timeout: timeout, Insecure: insecure,
				NoTrace: noTrace, NoSystem: noSystem, WarnDays: warnDays, Dialer: netpolicy.AllowAll().Dialer()}
			for _, r := range resolvers {
				srv, err := dnsq.ParseServer(r)
				if err != nil {
					return usageErr("bad --resolvers entry: %v", err)
				}
				req.Resolvers = append(req.Resolvers, srv)
			}
			if noSystem && len(req.Resolvers) == 0 {
				return usageErr("--no-system needs --resolvers: there would be no resolver to ask")
			}
			req.ConnectTo = connectTo
			hints, port, err := parseRoots(roots)
			if err != nil {
				return usageErr("%v", err)
			}
			if hints != nil {
				req.Tracer = &dnsq.Tracer{Roots: hints, Port: port, AllServers: true}
			}
			if timeout <= 0 {
				return usageErr("bad --timeout %s: want a positive duration such as 5s", timeout)
			}
			if ca != "" {
				pf := probeFlags{ca: ca}
				pool, err := pf.roots()
				if err != nil {
					return err
				}
				req.RootCAs = pool
			}
			res, err := diagnose.Run(cmd.Context(), req)
			if err != nil {
				if errors.Is(err, diagnose.ErrBadRequest) {
					return usageErr("%v", err)
				}
				return err
			}
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
	fl.IntVar(&warnDays, "warn-days", 14, "warn when the certificate expires within this many days")
	fl.StringSliceVar(&connectTo, "connect-to", nil, "probe these addresses (a load balancer's) instead of the DNS answers; DNS is still checked")
	fl.StringVar(&roots, "roots", "", "root servers for the delegation trace (comma-separated IP[:port], or a hints file; default: shipped root hints)")
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
		fmt.Fprintln(w, "Verdict: healthy, every layer answered")
		return
	}
	where := ""
	if v.Address != "" {
		where = " at " + v.Address
	}
	fmt.Fprintf(w, "Verdict: %s failed%s\n", diagnose.LayerName(v.Layer), where)
	fmt.Fprintf(w, "  problem:      %s\n", v.Problem)
	fmt.Fprintf(w, "  likely cause: %s\n", v.Cause)
	fmt.Fprintf(w, "  next:         %s\n", v.Next)
}

func writeDNSAnswers(w io.Writer, r *diagnose.DNSReport) {
	for _, a := range r.Answers {
		who := a.Resolver
		if a.System {
			who = "system " + who
		}
		got := a.Error
		if got == "" {
			got = a.Rcode + " " + strings.Join(a.Addresses, ", ")
		}
		fmt.Fprintf(w, "  %-10s %-5s   %s: %s (%s)\n", "", "", who, strings.TrimSpace(got), fmtDur(a.RTT))
	}
	if t := r.Trace; t != nil {
		for _, s := range t.Steps {
			fmt.Fprintf(w, "  %-10s %-5s   trace %-8s %s from %s (%s): %s\n", "", "", s.Kind, s.Zone, s.Server, s.Addr, s.Rcode)
		}
	}
}
