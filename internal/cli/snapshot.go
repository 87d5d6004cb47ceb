package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/dnsscience/dnsscience/internal/measure"
	"github.com/dnsscience/dnsscience/internal/snapshot"
)

type snapshotOptions struct {
	out        string
	server     string
	names      []string
	types      []string
	noTransfer bool
	store      bool
	timeout    time.Duration
}

func newSnapshotCmd(e *env) *cobra.Command {
	o := &snapshotOptions{}
	cmd := &cobra.Command{
		Use:   "snapshot DOMAIN",
		Short: "Save a domain's DNS records to a file or the store, to compare later (diff)",
		Long: `snapshot takes a zone's records: by zone transfer (AXFR) from the first of its
authoritative servers that allows one, else by asking a list of common names
(www, mail, _dmarc, _mta-sts, DKIM selectors, service records ...; see
docs/SNAPSHOTS.md) for the common types of each. RRSIG, NSEC and NSEC3 are
left out: the signer remakes them.

The authoritative servers are found through the system's resolvers; --server
asks one server instead (a transfer, then the names).

The snapshot (JSON, docs/SNAPSHOTS.md) goes to -o FILE, to the store with
--store (the server's store: --data DIR or --db URL), or to stdout. Compare two
with 'dnsscience diff'.

Exit status 1 when no server answered.`,
		Example: `  dnsscience snapshot example.com -o example.com.json
  dnsscience snapshot example.com --server @ns1.example.com --store
  dnsscience snapshot example.com --no-transfer --names @,www,api,_dmarc -o small.json`,
		Args: cobra.ExactArgs(1),
	}
	sf := addStoreFlags(cmd)
	f := cmd.Flags()
	f.StringVarP(&o.out, "output", "o", "", "file to write the snapshot to")
	f.StringVar(&o.server, "server", "", "server to ask (@addr, addr:port, tcp://host); default the domain's authoritative servers")
	f.StringSliceVar(&o.names, "names", nil, "names to ask when no transfer is allowed, relative to the domain (@ is the apex); default the common names")
	f.StringSliceVar(&o.types, "types", nil, "types to ask of every name; default per kind of name")
	f.BoolVar(&o.noTransfer, "no-transfer", false, "ask the names without trying a zone transfer")
	f.BoolVar(&o.store, "store", false, "save the snapshot in the store (prints its id)")
	f.DurationVar(&o.timeout, "timeout", 30*time.Second, "bound on the whole snapshot")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return runSnapshot(cmd.Context(), e, o, sf, args[0])
	}
	return cmd
}

func runSnapshot(ctx context.Context, e *env, o *snapshotOptions, sf *storeFlags, domain string) error {
	opts := &measure.SnapshotOptions{Server: o.server, Names: o.names, Types: o.types, NoTransfer: o.noTransfer, Timeout: measure.Duration(o.timeout)}
	res, err := runKind(ctx, "snapshot", domain, opts, nil, nil, nil)
	if err != nil {
		var ue *exitError
		if errors.As(err, &ue) {
			return err
		}
		return failErr(err)
	}
	s := res.(*snapshot.Snapshot)
	if o.store {
		st, err := sf.open(ctx, false)
		if err != nil {
			return err
		}
		defer st.Close()
		if err := snapshot.Save(ctx, st, s, "cli", ""); err != nil {
			return &exitError{code: ExitInternal, err: err}
		}
	}
	if o.out != "" {
		if err := writeSnapshotFile(o.out, s); err != nil {
			return &exitError{code: ExitInternal, err: err}
		}
	}
	if o.out == "" && !o.store {
		return s.Encode(e.stdout)
	}
	if e.json {
		return writeJSON(e.stdout, snapshotSummary(s, o.out))
	}
	renderSnapshotSummary(e.stdout, s, o.out)
	return nil
}

// writeSnapshotFile writes s beside path and renames it into place.
func writeSnapshotFile(path string, s *snapshot.Snapshot) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".snapshot-*")
	if err != nil {
		return fmt.Errorf("writing snapshot: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := s.Encode(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing snapshot: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing snapshot: %w", err)
	}
	return nil
}

type snapshotInfo struct {
	ID            string    `json:"id,omitempty"`
	File          string    `json:"file,omitempty"`
	Domain        string    `json:"domain"`
	TakenAt       time.Time `json:"taken_at"`
	Method        string    `json:"method"`
	Server        string    `json:"server"`
	Serial        uint32    `json:"serial"`
	RRsets        int       `json:"rrsets"`
	Records       int       `json:"records"`
	TransferError string    `json:"transfer_error,omitempty"`
}

func snapshotSummary(s *snapshot.Snapshot, file string) snapshotInfo {
	return snapshotInfo{ID: s.ID, File: file, Domain: s.Domain, TakenAt: s.TakenAt, Method: s.Method, Server: s.Server,
		Serial: s.Serial, RRsets: len(s.RRsets), Records: s.Records(), TransferError: s.TransferError}
}

func renderSnapshotSummary(w io.Writer, s *snapshot.Snapshot, file string) {
	how := "zone transfer"
	if s.Method == snapshot.MethodNames {
		how = fmt.Sprintf("%d names asked", len(s.Asked))
	}
	fmt.Fprintf(w, "snapshot of %s: %d records in %d RRsets, serial %d, by %s from %s\n",
		s.Domain, s.Records(), len(s.RRsets), s.Serial, how, s.Server)
	if s.TransferError != "" {
		fmt.Fprintf(w, "no zone transfer: %s\n", s.TransferError)
	}
	if s.ID != "" {
		fmt.Fprintf(w, "stored as %s\n", s.ID)
	}
	if file != "" {
		fmt.Fprintf(w, "written to %s\n", file)
	}
}
