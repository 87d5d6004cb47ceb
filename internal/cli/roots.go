package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/dnsscience/dnsscience/internal/dnsq"
	"github.com/dnsscience/dnsscience/internal/measure"
	"github.com/dnsscience/dnsscience/internal/roots"
)

type rootsOptions struct {
	roots      string
	ipv4, ipv6 bool
	timeout    time.Duration
}

func newRootsCmd(e *env) *cobra.Command {
	o := &rootsOptions{}
	cmd := &cobra.Command{
		Use:   "roots",
		Short: "Ask each root server which instance answers here, over IPv4 and IPv6",
		Long: `roots asks every address of the 13 root servers at once — the root zone's SOA
with the NSID option, and CH TXT hostname.bind and id.server — and prints the
instance that answered (NSID, else hostname.bind, else id.server) with the
fastest round trip. The root servers are anycast: which instance answers
depends on where you ask from.

--roots takes a root hints file (named.root format) or comma-separated
addresses (LETTER=ADDR or ADDR, letters a, b, c ... by position) to ask
instead of the shipped root servers.

Exit status 1 when an address did not answer.`,
		Example: `  dnsscience roots
  dnsscience roots -6 --json
  dnsscience roots --roots named.root
  dnsscience roots --roots a=127.0.0.1:5301,b=127.0.0.1:5302`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runRoots(cmd.Context(), e, o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.roots, "roots", "", "root hints file, or addresses (LETTER=ADDR,...) to ask instead of the shipped roots")
	f.BoolVarP(&o.ipv4, "ipv4", "4", false, "ask over IPv4 only")
	f.BoolVarP(&o.ipv6, "ipv6", "6", false, "ask over IPv6 only")
	f.DurationVar(&o.timeout, "timeout", 4*time.Second, "bound on each question, all tries included")
	return cmd
}

func runRoots(ctx context.Context, e *env, o *rootsOptions) error {
	opts := &measure.RootsOptions{Timeout: measure.Duration(o.timeout)}
	switch {
	case o.ipv4 && o.ipv6:
		return usageErr("-4 and -6 exclude each other")
	case o.ipv4:
		opts.IPVersion = 4
	case o.ipv6:
		opts.IPVersion = 6
	}
	entries, err := rootLetterEntries(o.roots)
	if err != nil {
		return err
	}
	opts.Roots = entries
	out, err := runKind(ctx, "roots", ".", opts, nil, map[string]string{"roots": "--roots", "ip_version": "-4/-6"}, nil)
	if err != nil {
		var ue *exitError
		if errors.As(err, &ue) {
			return err
		}
		return failErr(err)
	}
	res := out.(*roots.Result)
	if e.json {
		err = writeJSON(e.stdout, res)
	} else {
		err = renderRoots(e.stdout, res)
	}
	if err != nil {
		return err
	}
	if res.Answered < res.Total {
		return errSilentFail
	}
	return nil
}

// rootLetterEntries reads roots --roots: a root hints file as LETTER=ADDR entries (diagnose's rootEntries keeps addresses only), or
// the comma-separated entries themselves.
func rootLetterEntries(spec string) ([]string, error) {
	if spec == "" {
		return nil, nil
	}
	if st, err := os.Stat(spec); err == nil && !st.IsDir() {
		hints, err := dnsq.LoadRootHints(spec)
		if err != nil {
			return nil, usageErr("bad --roots: %v", err)
		}
		var out []string
		for _, s := range roots.FromHints(hints) {
			for _, a := range []string{s.IPv4, s.IPv6} {
				if a != "" {
					out = append(out, s.Letter+"="+a)
				}
			}
		}
		return out, nil
	}
	return strings.Split(spec, ","), nil
}

func renderRoots(w io.Writer, res *roots.Result) error {
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintf(tw, "LETTER\tFAMILY\tADDRESS\tRTT\tINSTANCE\tNSID\tHOSTNAME.BIND\tID.SERVER\n")
	for _, a := range res.Answers {
		if a.Error != "" {
			fmt.Fprintf(tw, "%s\t%s\t%s\t-\t(%s)\t\t\t\n", a.Letter, a.Family, a.Addr, a.Error)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.1fms\t%s\t%s\t%s\t%s\n", a.Letter, a.Family, a.Addr, a.RTTMs, dash(a.Instance), dash(a.NSID), dash(a.HostnameBind), dash(a.IDServer))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "%d of %d addresses answered\n", res.Answered, res.Total)
	return err
}
