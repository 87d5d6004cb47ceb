package cli

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/dnsscience/dnsscience/internal/measure"
	"github.com/dnsscience/dnsscience/internal/probe"
	"github.com/spf13/cobra"
)

func newCertCmd(e *env) *cobra.Command {
	var (
		pf       probeFlags
		sni      string
		warnDays int
		alpn     []string
	)
	cmd := &cobra.Command{
		Use:   "cert HOST[:PORT]",
		Short: "Examine a server's TLS handshake and certificate chain",
		Long: `Handshake with HOST (port 443 unless given) and examine the chain as served:
each certificate's subject, issuer, names, key, signature, validity and SHA-256
fingerprint; trust against the system roots or --ca; the host name (wildcards
included); and findings: expired, not_yet_valid, expires_soon, hostname_mismatch,
self_signed, unknown_authority, incomplete_chain, weak_key, sha1_signature,
old_protocol.
Leaf expiry, the earliest expiry in the served chain and in the verified chain
are reported separately. Exit status 1 when there is any finding.`,
		Example: `  dnsscience cert example.com
  dnsscience cert api.example.com:8443 --warn-days 30
  dnsscience cert api-staging.example.com --connect-to 203.0.113.10
  dnsscience cert 203.0.113.10 --sni api.example.com --ca internal-ca.pem --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			base, err := pf.base()
			if err != nil {
				return err
			}
			trust, err := pf.trust()
			if err != nil {
				return err
			}
			o := &measure.CertOptions{ProbeOptions: base, TrustOptions: trust, SNI: sni, ALPN: alpn, WarnDays: &warnDays}
			return runProbe(cmd.Context(), e, "cert", args[0], o, certDetails)
		},
	}
	pf.add(cmd, true)
	cmd.Flags().StringVar(&sni, "sni", "", "server name to send and check the certificate against (default: the host)")
	cmd.Flags().IntVar(&warnDays, "warn-days", probe.DefaultWarnDays, "report expires_soon when the leaf or verified chain expires within this many days (0 disables)")
	cmd.Flags().StringSliceVar(&alpn, "alpn", nil, "ALPN protocols to offer, e.g. h2,http/1.1")
	return cmd
}

func certDetails(w io.Writer, r *probe.Result) {
	t := r.TLS
	if t == nil {
		return
	}
	fmt.Fprintf(w, "  %s, %s", t.Version, t.CipherSuite)
	if t.ALPN != "" {
		fmt.Fprintf(w, ", ALPN %s", t.ALPN)
	}
	fmt.Fprintf(w, ", OCSP staple: %s\n", yesNo(t.OCSPStapled))
	fmt.Fprintf(w, "  trusted: %s", yesNo(t.Trusted))
	if t.TrustError != "" {
		fmt.Fprintf(w, " (%s)", t.TrustError)
	}
	fmt.Fprintf(w, "; hostname %s: %s\n", t.ServerName, map[bool]string{true: "covered", false: "NOT covered"}[t.HostnameOK])
	fmt.Fprintf(w, "  leaf expires %s (%d days)\n", day(t.LeafExpiry), t.DaysLeft)
	fmt.Fprintf(w, "  served chain earliest expiry %s\n", day(t.ServedChainExpiry))
	if !t.VerifiedChainExpiry.IsZero() {
		fmt.Fprintf(w, "  verified chain earliest expiry %s (%d certificates)\n", day(t.VerifiedChainExpiry), t.VerifiedLen)
	}
	fmt.Fprintln(w, "chain as served:")
	for i, c := range t.Chain {
		fmt.Fprintf(w, "  %d %s\n", i, c.Subject)
		fmt.Fprintf(w, "      issuer    %s\n", c.Issuer)
		if names := append(append([]string{}, c.DNSNames...), c.IPAddresses...); len(names) > 0 {
			fmt.Fprintf(w, "      names     %s\n", strings.Join(names, ", "))
		}
		fmt.Fprintf(w, "      key       %s-%d, signed %s\n", c.KeyType, c.KeyBits, c.SignatureAlgorithm)
		fmt.Fprintf(w, "      valid     %s to %s\n", day(c.NotBefore), day(c.NotAfter))
		fmt.Fprintf(w, "      serial    %s\n", c.Serial)
		fmt.Fprintf(w, "      sha256    %s\n", c.SHA256)
	}
	if len(t.Findings) > 0 {
		fmt.Fprintln(w, "findings:")
		for _, f := range t.Findings {
			fmt.Fprintf(w, "  %s: %s\n", f.Name, f.Detail)
		}
	}
}

func day(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
