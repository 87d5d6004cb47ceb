package cli

import (
	"fmt"
	"io"

	"github.com/dnsscience/dnsscience/internal/measure"
	"github.com/dnsscience/dnsscience/internal/probe"
	"github.com/spf13/cobra"
)

func newTCPCmd(e *env) *cobra.Command {
	var (
		pf     probeFlags
		send   string
		expect string
	)
	cmd := &cobra.Command{
		Use:   "tcp HOST:PORT",
		Short: "Connect over TCP, optionally exchange a banner",
		Long: `Connect to HOST:PORT over TCP and report the connect time; with --send
and --expect, write a payload and wait for a reply containing a string.
Exit status 1 when the connection or the expectation fails.`,
		Example: `  dnsscience tcp db.example.com:5432
  dnsscience tcp mail.example.com:25 --expect "220 "
  dnsscience tcp cache.example.com:6379 --send 'PING\r\n' --expect +PONG
  dnsscience tcp api.example.com:443 --connect-to 203.0.113.10 --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			base, err := pf.base()
			if err != nil {
				return err
			}
			o := &measure.TCPOptions{ProbeOptions: base, Send: unescape(send), Expect: unescape(expect)}
			return runProbe(cmd.Context(), e, "tcp", args[0], o, tcpDetails)
		},
	}
	pf.add(cmd, false)
	cmd.Flags().StringVar(&send, "send", "", `payload to write once connected (\r \n \t escapes allowed)`)
	cmd.Flags().StringVar(&expect, "expect", "", "string the server's reply must contain")
	return cmd
}

func tcpDetails(w io.Writer, r *probe.Result) {
	if r.TCP == nil {
		return
	}
	if r.TCP.Family != "" {
		fmt.Fprintf(w, "  family: %s, local %s\n", r.TCP.Family, r.TCP.Local)
	}
	if r.TCP.Received != "" {
		fmt.Fprintf(w, "  received: %q\n", r.TCP.Received)
	}
}

// unescape turns \r, \n, \t and \\ into the characters they name.
func unescape(s string) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			switch s[i+1] {
			case 'r':
				out, i = append(out, '\r'), i+1
				continue
			case 'n':
				out, i = append(out, '\n'), i+1
				continue
			case 't':
				out, i = append(out, '\t'), i+1
				continue
			case '\\':
				out, i = append(out, '\\'), i+1
				continue
			}
		}
		out = append(out, s[i])
	}
	return string(out)
}
