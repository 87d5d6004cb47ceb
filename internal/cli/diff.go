package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/dnsscience/dnsscience/internal/dnsq"
	"github.com/dnsscience/dnsscience/internal/snapshot"
	"github.com/dnsscience/dnsscience/internal/store"
)

type diffOptions struct {
	opts    snapshot.DiffOptions
	server  string
	timeout time.Duration
}

func newDiffCmd(e *env) *cobra.Command {
	o := &diffOptions{}
	cmd := &cobra.Command{
		Use:   "diff A B",
		Short: "Compare two snapshots of a domain's records (or one with now)",
		Long: `diff compares two snapshots of one domain and prints the RRsets added (+),
removed (-) and changed (~). A and B are each a snapshot file, the id of a
stored snapshot (the store of --data DIR or --db URL), or "now": a snapshot
taken now, like the other one (the same names when that one asked names),
from --server or the domain's authoritative servers.

A SOA whose serial alone changed and TTLs are left out (every edit bumps the
serial; resolvers count TTLs down): --serial and --ttl compare them too.
When one side asked names only, only what it asked is compared.

Exit status 0 when the snapshots are the same, 1 when they differ (as
diff(1)), 2 for bad input, 3 when a snapshot could not be read or taken.`,
		Example: `  dnsscience diff before.json after.json
  dnsscience diff before.json now
  dnsscience diff 3k2v... now --server @ns1.example.com --json
  dnsscience diff before.json now --serial --ttl`,
		Args: cobra.ExactArgs(2),
	}
	sf := addStoreFlags(cmd)
	f := cmd.Flags()
	f.BoolVar(&o.opts.Serial, "serial", false, "compare SOA serials too")
	f.BoolVar(&o.opts.TTL, "ttl", false, "compare TTLs too")
	f.StringVar(&o.server, "server", "", "server that \"now\" asks; default the domain's authoritative servers")
	f.DurationVar(&o.timeout, "timeout", 30*time.Second, "bound on taking the \"now\" snapshot")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return runDiff(cmd.Context(), e, o, sf, args[0], args[1])
	}
	return cmd
}

func runDiff(ctx context.Context, e *env, o *diffOptions, sf *storeFlags, a, b string) error {
	if a == "now" && b == "now" {
		return usageErr("only one of A and B may be \"now\": the other says which domain and names to take")
	}
	var st *store.Store
	defer func() {
		if st != nil {
			st.Close()
		}
	}()
	read := func(arg string) (*snapshot.Snapshot, error) {
		if f, err := os.Open(arg); err == nil {
			defer f.Close()
			s, err := snapshot.Read(f)
			if err != nil {
				return nil, usageErr("reading %s: %v", arg, err)
			}
			return s, nil
		} else if !errors.Is(err, os.ErrNotExist) || strings.ContainsAny(arg, "/.") {
			return nil, usageErr("reading %s: %v", arg, err)
		}
		if st == nil {
			var err error
			if st, err = sf.open(ctx, true); err != nil {
				return nil, err
			}
		}
		s, err := snapshot.Load(ctx, st, arg)
		if errors.Is(err, store.ErrNotFound) {
			return nil, usageErr("%s is neither a snapshot file nor a stored snapshot's id (nor \"now\")", arg)
		}
		return s, err
	}
	var sa, sb *snapshot.Snapshot
	var err error
	if a != "now" {
		if sa, err = read(a); err != nil {
			return err
		}
	}
	if b != "now" {
		if sb, err = read(b); err != nil {
			return err
		}
	}
	if sa == nil {
		sa, err = o.now(ctx, sb)
	} else if sb == nil {
		sb, err = o.now(ctx, sa)
	}
	if err != nil {
		return err
	}
	d, err := snapshot.Compare(sa, sb, o.opts)
	if err != nil {
		return usageErr("%v", err)
	}
	if e.json {
		err = writeJSON(e.stdout, d)
	} else {
		err = renderDiff(e.stdout, d)
	}
	if err != nil {
		return err
	}
	if !d.Equal {
		return errSilentFail
	}
	return nil
}

// now takes a snapshot comparable with like.
func (o *diffOptions) now(ctx context.Context, like *snapshot.Snapshot) (*snapshot.Snapshot, error) {
	var tk snapshot.Taker
	if o.server != "" {
		srv, err := dnsq.ParseServer(o.server)
		if err != nil {
			return nil, usageErr("bad --server: %v", err)
		}
		tk.Servers = []dnsq.Server{srv}
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	s, err := tk.Like(like).Take(ctx, like.Domain)
	if err != nil {
		return nil, &exitError{code: ExitInternal, err: fmt.Errorf("taking a snapshot of %s now: %w", like.Domain, err)}
	}
	return s, nil
}

// renderDiff prints a diff as diff(1) would: a header per side, then
// + added, - removed and ~ changed RRsets with their records.
func renderDiff(w io.Writer, d *snapshot.Diff) error {
	for _, h := range []struct {
		mark string
		s    snapshot.Side
	}{{"---", d.A}, {"+++", d.B}} {
		id := ""
		if h.s.ID != "" {
			id = " " + h.s.ID
		}
		fmt.Fprintf(w, "%s %s %s%s (%s, serial %d, %s)\n", h.mark, d.Domain, h.s.TakenAt.Format(time.RFC3339), id, h.s.Method, h.s.Serial, h.s.Server)
	}
	for _, c := range d.Changes {
		switch c.Op {
		case snapshot.Added:
			for _, x := range c.New.Data {
				fmt.Fprintf(w, "+ %s %d %s %s\n", c.Name, c.New.TTL, c.Type, x)
			}
		case snapshot.Removed:
			for _, x := range c.Old.Data {
				fmt.Fprintf(w, "- %s %d %s %s\n", c.Name, c.Old.TTL, c.Type, x)
			}
		case snapshot.Changed:
			ttl := ""
			if c.Old.TTL != c.New.TTL && d.Options.TTL {
				ttl = fmt.Sprintf(" (TTL %d → %d)", c.Old.TTL, c.New.TTL)
			}
			fmt.Fprintf(w, "~ %s %s%s\n", c.Name, c.Type, ttl)
			for _, x := range c.Removed {
				fmt.Fprintf(w, "  - %s %d %s %s\n", c.Name, c.Old.TTL, c.Type, x)
			}
			for _, x := range c.Added {
				fmt.Fprintf(w, "  + %s %d %s %s\n", c.Name, c.New.TTL, c.Type, x)
			}
		}
	}
	summary := "no differences"
	if !d.Equal {
		summary = fmt.Sprintf("%d added, %d removed, %d changed", d.Added, d.Removed, d.Changed)
	}
	if d.Partial {
		summary += " (one side asked names only: only those names were compared)"
	}
	_, err := fmt.Fprintln(w, summary)
	return err
}
