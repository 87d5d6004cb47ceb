package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/dnsscience/dnsscience/internal/dnsq"
	"github.com/dnsscience/dnsscience/internal/measure"
)

type propagationOptions struct {
	resolvers string
	expect    []string
	transport string
	timeout   time.Duration
	tries     int
	caFile    string
	insecure  bool
}

func newPropagationCmd(e *env) *cobra.Command {
	o := &propagationOptions{}
	cmd := &cobra.Command{
		Use:   "propagation name [type]",
		Short: "Ask many resolvers at once and compare their answers",
		Long: `Ask every resolver the same question at once, group identical answers and
give a verdict: consistent, inconsistent (with the groups), failing resolvers,
or an expected value missing.

--resolvers takes the shipped list (default: all of it), a comma-separated
list of shipped names, or a YAML file of the same schema (see
'dnsscience resolvers --json').

Exit status 0 only when every resolver answered the same and every --expect
value is present; 1 otherwise.`,
		Example: `  dnsscience propagation example.com
  dnsscience propagation example.com MX --resolvers cloudflare,google,quad9
  dnsscience propagation www.example.com A --expect 203.0.113.10
  dnsscience propagation example.com TXT --resolvers my-resolvers.yaml --json`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPropagation(cmd.Context(), e, o, args)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.resolvers, "resolvers", "", "resolvers: shipped names (comma-separated) or a YAML file; default all shipped")
	f.StringArrayVar(&o.expect, "expect", nil, "a value every answer must contain (repeatable)")
	f.StringVar(&o.transport, "transport", "udp", "udp, tcp, tls (DoT) or https (DoH)")
	f.DurationVar(&o.timeout, "timeout", 3*time.Second, "timeout per try")
	f.IntVar(&o.tries, "tries", 2, "tries per resolver")
	f.StringVar(&o.caFile, "ca", "", "PEM file of CAs to trust for DoT/DoH")
	f.BoolVar(&o.insecure, "insecure", false, "do not verify DoT/DoH certificates")
	return cmd
}

func runPropagation(ctx context.Context, e *env, o *propagationOptions, args []string) error {
	typ := ""
	if len(args) == 2 {
		typ = args[1]
	}
	resolvers, err := pickResolvers(o.resolvers)
	if err != nil {
		return usageErr("%v", err)
	}
	if o.timeout <= 0 || o.tries < 1 {
		return usageErr("--timeout and --tries must be positive")
	}
	trust := measure.TrustOptions{Insecure: o.insecure}
	if o.caFile != "" {
		pf := probeFlags{ca: o.caFile}
		if trust, err = pf.trust(); err != nil {
			return err
		}
		trust.Insecure = o.insecure
	}
	opts := &measure.PropagationOptions{Type: typ, Expect: o.expect, Transport: strings.ToLower(o.transport),
		Timeout: measure.Duration(o.timeout * time.Duration(o.tries)), Tries: o.tries, TrustOptions: trust}
	// The resolvers chosen (names or a file) are the list; all are asked.
	menv := &measure.Env{Resolvers: resolvers, Interactive: true}
	for _, r := range resolvers {
		opts.Resolvers = append(opts.Resolvers, r.Name)
	}
	out, err := runKind(ctx, "propagation", args[0], opts, menv, map[string]string{"type": "type"}, nil)
	if err != nil {
		var ue *exitError
		if errors.As(err, &ue) {
			return err
		}
		return failErr(err)
	}
	res := out.(*dnsq.PropagationResult)
	if e.json {
		if err := writeJSON(e.stdout, res); err != nil {
			return err
		}
	} else {
		renderPropagation(e.stdout, res)
	}
	if !res.Consistent {
		return errSilentFail
	}
	return nil
}

// pickResolvers reads --resolvers: empty or "all" for the shipped list, a
// YAML file, or comma-separated shipped names.
func pickResolvers(spec string) ([]dnsq.Resolver, error) {
	shipped := dnsq.ShippedResolvers()
	if spec == "" || spec == "all" {
		return shipped, nil
	}
	if st, err := os.Stat(spec); err == nil && !st.IsDir() {
		return dnsq.LoadResolvers(spec)
	}
	var out []dnsq.Resolver
	for _, n := range strings.Split(spec, ",") {
		r, ok := dnsq.FindResolver(strings.TrimSpace(n), shipped)
		if !ok {
			names := make([]string, 0, len(shipped))
			for _, s := range shipped {
				names = append(names, s.Name)
			}
			return nil, fmt.Errorf("--resolvers: %q is neither a file nor a shipped resolver; shipped: %s", n, strings.Join(names, ", "))
		}
		out = append(out, r)
	}
	return out, nil
}

func renderPropagation(w io.Writer, res *dnsq.PropagationResult) {
	rows := slices.Clone(res.Results)
	slices.SortStableFunc(rows, func(a, b dnsq.ResolverAnswer) int {
		ga, gb := a.Group, b.Group
		if ga < 0 {
			ga = 1 << 30
		}
		if gb < 0 {
			gb = 1 << 30
		}
		if ga != gb {
			return ga - gb
		}
		return strings.Compare(a.Resolver, b.Resolver)
	})
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintf(tw, "RESOLVER\tGROUP\tRCODE\tRTT\tTTL\tANSWER\n")
	for _, r := range rows {
		group, rcode, ans := "-", r.Rcode, strings.Join(r.Answers, ", ")
		if r.Group >= 0 {
			group = fmt.Sprint(r.Group + 1)
		}
		if r.Error != "" {
			rcode, ans = "ERROR", r.Error
		}
		if ans == "" {
			ans = "(no records)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.1fms\t%d\t%s\n", r.Resolver, group, rcode, r.RTTMs, r.TTL, ans)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nGroups for %s %s:\n", res.Name, res.Type)
	for i, g := range res.Groups {
		ans := strings.Join(g.Answers, ", ")
		if ans == "" {
			ans = "(no records)"
		}
		fmt.Fprintf(w, "  [%d] %s %s: %d resolver(s): %s\n", i+1, g.Rcode, ans, len(g.Resolvers), strings.Join(g.Resolvers, ", "))
	}
	if len(res.Failing) > 0 {
		fmt.Fprintf(w, "Failing: %s\n", strings.Join(res.Failing, ", "))
	}
	for _, m := range res.Missing {
		fmt.Fprintf(w, "Missing expected value: %s\n", m)
	}
	fmt.Fprintf(w, "Verdict: %s (%d resolvers, %d answer group(s), %d failing)\n",
		res.Verdict, len(res.Results), len(res.Groups), len(res.Failing))
}
