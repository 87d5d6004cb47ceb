package cli

import (
	"fmt"
	"io"
	"time"

	"github.com/dnsscience/dnsscience/internal/measure"
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
		noLinger     bool
		okCodes      []int
	)
	cmd := &cobra.Command{
		Use:   "ws URL",
		Short: "Open a WebSocket (ws or wss), optionally exchange a message",
		Long: `Open a WebSocket, report the upgrade, the subprotocol and timings; with
--send and --expect, send a text message and check the reply. With nothing to
exchange, wait --linger (1s) after the upgrade for the server to close, so a
server that accepts and then fails is caught. Who closed, the server's close
code and reason and when are reported. Exit status 1 when the upgrade is
refused, the reply does not match, or the server closes with a code other than
1000/1001 (--ok-close-codes) or drops the connection.`,
		Example: `  dnsscience ws wss://example.com/socket
  dnsscience ws wss://api.example.com/ws --send '{"type":"ping"}' --expect pong
  dnsscience ws wss://api.example.com/ws --subprotocol graphql-ws --linger 2s
  dnsscience ws wss://api.example.com/ws --connect-to 203.0.113.10 --json`,
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
			if cmd.Flags().Changed("linger") && linger == 0 {
				noLinger = true // an explicit --linger 0 does not wait
			}
			if linger < 0 {
				return usageErr("bad --linger %s: want a duration of 0 or more (0 means %s; --no-linger does not wait)", linger, probe.DefaultLinger)
			}
			h, err := parseHeaders(headers)
			if err != nil {
				return err
			}
			o := &measure.WSOptions{ProbeOptions: base, TrustOptions: trust, Headers: joinHeaders(h), Host: host, Subprotocols: subprotocols,
				Send: send, Expect: expect, Linger: measure.Duration(linger), NoLinger: noLinger, OKCloseCodes: okCodes}
			return runProbe(cmd.Context(), e, "ws", args[0], o, wsDetails)
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
	fl.DurationVar(&linger, "linger", probe.DefaultLinger, "with nothing to send, wait this long after the upgrade for the server to close")
	fl.BoolVar(&noLinger, "no-linger", false, "close right after the upgrade (do not wait for the server); so does --linger 0")
	fl.IntSliceVar(&okCodes, "ok-close-codes", nil, "server close codes that are not failures (default 1000,1001)")
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
	switch ws.ClosedBy {
	case probe.ClosedByServer:
		fmt.Fprintf(w, "  closed by server %s after the upgrade: %d", probe.ShortDuration(ws.ClosedAfter), ws.CloseCode)
		if ws.CloseReason != "" {
			fmt.Fprintf(w, " %q", ws.CloseReason)
		}
		fmt.Fprintln(w)
	case probe.ClosedByClient:
		if ws.Lingered > 0 {
			fmt.Fprintf(w, "  still open after waiting %s; closed by client\n", probe.ShortDuration(ws.Lingered))
		} else {
			fmt.Fprintln(w, "  closed by client")
		}
	}
}
