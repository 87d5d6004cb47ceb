package cli

import (
	"errors"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/dnsscience/dnsscience/internal/measure"
	"github.com/dnsscience/dnsscience/internal/scan"
)

func newScanCmd(e *env) *cobra.Command {
	var (
		roots   string
		anchor  string
		noIPv6  bool
		timeout time.Duration
	)
	cmd := &cobra.Command{
		Use:   "scan DOMAIN",
		Short: "Check a domain's health: delegation, every name server, DNSSEC, mail and web records",
		Long: `Scan a domain from the root down: the delegation (parent and child NS sets,
glue), every name server of the domain and of its parent over UDP and TCP,
IPv4 and IPv6, at once (lame, unreachable, SOA serials, EDNS, open recursion,
open zone transfer, SOA timers, network spread), the DNSSEC chain of trust from
the root trust anchor (secure, insecure and where, bogus and why,
indeterminate; algorithm advice and the signature expiry horizon), and the
mail and web records (MX, SPF and its 10-lookup limit, DMARC, MTA-STS,
TLS-RPT, CAA). A nonexistent domain is an error.
The report starts with the verdict; --json prints every finding
(code, severity, servers, evidence) and dnssec.status. --roots (as dig
+trace) and --trust-anchor (DS or DNSKEY records in zone-file syntax) point
it at a test hierarchy. Exit status 0 without error findings, 1 with.`,
		Example: `  dnsscience scan example.com
  dnsscience scan example.com --json
  dnsscience scan secure.test --roots 127.0.1.1:5353 --trust-anchor root-ds.txt`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rootList, err := rootEntries(roots)
			if err != nil {
				return usageErr("%v", err)
			}
			if timeout < 100*time.Millisecond || timeout > 10*time.Second {
				return usageErr("bad --timeout %s: want 100ms to 10s", timeout)
			}
			o := &measure.ScanOptions{Roots: rootList, NoIPv6: noIPv6, TimeoutMs: int(timeout / time.Millisecond)}
			if anchor != "" {
				b, err := os.ReadFile(anchor)
				if err != nil {
					return usageErr("--trust-anchor: %v", err)
				}
				o.TrustAnchor = string(b)
			}
			out, err := runKind(cmd.Context(), "scan", args[0], o, nil, map[string]string{"trust_anchor": "--trust-anchor", "timeout_ms": "--timeout"}, nil)
			if err != nil {
				return err
			}
			r, ok := out.(*scan.Report)
			if !ok {
				return errors.New("the scan gave no report")
			}
			if e.json {
				err = writeJSON(e.stdout, r)
			} else {
				writeScanReport(e.stdout, r)
			}
			if err != nil {
				return err
			}
			if r.Verdict == scan.SevError {
				return errSilentFail
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&roots, "roots", "", "root servers to start from (comma-separated IP[:port], or a hints file; default: the public root hints)")
	fl.StringVar(&anchor, "trust-anchor", "", "file of DNSSEC trust anchors: DS or DNSKEY records in zone-file syntax (default: the root KSK)")
	fl.BoolVar(&noIPv6, "no-ipv6", false, "leave the name servers' IPv6 addresses out")
	fl.DurationVar(&timeout, "timeout", 2*time.Second, "timeout of each query (tried twice)")
	return cmd
}
