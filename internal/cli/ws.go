package cli

import (
	"fmt"
	"io"
	"time"

	"github.com/dnsscience/dnsscience/internal/probe"
	"github.com/spf13/cobra"
)

func newWSCmd(e *env) *cobra.Command {
	var (
		pf           probeFlags
		headers      []string
		host         string
		send, expect string
		subprotocols []string
		linger       time.Duration
	)
	cmd := &cobra.Command{
		Use:   "ws URL",
		Short: "Open a WebSocket (ws or wss), optionally exchange a message",
		Long: `Open a WebSocket, report the upgrade, the subprotocol and timings; with
--send and --expect, send a text message and check the reply. A server that
closes the connection (1011 internal error, say) is reported with its close
code and reason. Exit status 1 when the upgrade is refused, the reply does not
match or the server closes abnormally.`,
		Example: `  dnsscience ws wss://example.com/socket
  dnsscience ws wss://api.example.com/ws --send '{"type":"ping"}' --expect pong
  dnsscience ws wss://api.example.com/ws --subprotocol graphql-ws --linger 2s
  dnsscience ws wss://api.example.com/ws --connect-to 203.0.113.10 --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts, roots, err := pf.tlsOptions()
			if err != nil {
				return err
			}
			h, err := parseHeaders(headers)
			if err != nil {
				return err
			}
			r, err := probe.WS(cmd.Context(), probe.WSRequest{
				URL: args[0], Options: opts, Header: h, Host: host, Subprotocols: subprotocols,
				Send: send, Expect: expect, Linger: linger, RootCAs: roots, Insecure: pf.insecure,
			})
			return finishProbe(e, r, err, wsDetails)
		},
	}
	pf.add(cmd, true)
	fl := cmd.Flags()
	fl.StringArrayVarP(&headers, "header", "H", nil, `handshake header "Name: value" (repeatable)`)
	fl.StringVar(&host, "host", "", "Host header and TLS server name")
	fl.BoolVarP(&pf.insecure, "insecure", "k", false, "do not verify the server certificate")
	fl.StringVar(&send, "send", "", "text message to send once connected")
	fl.StringVar(&expect, "expect", "", "string the first reply must contain")
	fl.StringSliceVar(&subprotocols, "subprotocol", nil, "subprotocols to offer (repeatable)")
	fl.DurationVar(&linger, "linger", 0, "with nothing to send, wait this long for the server to close")
	return cmd
}

func wsDetails(w io.Writer, r *probe.Result) {
	ws := r.WS
	if ws == nil {
		return
	}
	if ws.Status != 0 {
		fmt.Fprintf(w, "  upgrade: HTTP %d", ws.Status)
		if ws.Subprotocol != "" {
			fmt.Fprintf(w, ", subprotocol %s", ws.Subprotocol)
		}
		fmt.Fprintln(w)
	}
	if ws.Sent != "" {
		fmt.Fprintf(w, "  sent: %q\n", ws.Sent)
	}
	if ws.Received != "" {
		fmt.Fprintf(w, "  received: %q\n", ws.Received)
	}
	if ws.ClosedBy != "" {
		fmt.Fprintf(w, "  closed by %s: %d %q\n", ws.ClosedBy, ws.CloseCode, ws.CloseReason)
	}
}
