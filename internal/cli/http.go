package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/dnsscience/dnsscience/internal/measure"
	"github.com/dnsscience/dnsscience/internal/probe"
	"github.com/spf13/cobra"
)

func newHTTPCmd(e *env) *cobra.Command {
	var (
		pf           probeFlags
		headers      []string
		method, data string
		host         string
		expectStatus []int
		fail, follow bool
		include      bool
		showBody     bool
	)
	cmd := &cobra.Command{
		Use:   "http URL",
		Short: "Send an HTTP request and time every phase",
		Long: `Send one HTTP request and report the status, headers, body size and the
time spent in DNS, connect, TLS, to the first byte and in total.
--connect-to pins the connection to an address (curl --resolve) and --host sets
the Host header and the TLS name (curl -H Host), so both together check one
backend behind a load balancer. Exit status 1 when the request fails, the
status is not one of --expect-status, or with --fail when it is 400 or more.`,
		Example: `  dnsscience http https://example.com/
  dnsscience http https://api.example.com/health --expect-status 200
  dnsscience http https://api.example.com/health --connect-to 203.0.113.10 --fail
  dnsscience http https://203.0.113.10/health --host api.example.com --insecure
  dnsscience http https://api.example.com/v1/items -X POST -H 'Content-Type: application/json' -d '{"a":1}' --json`,
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
			h, err := parseHeaders(headers)
			if err != nil {
				return err
			}
			if data != "" && method == "" {
				method = "POST"
			}
			o := &measure.HTTPOptions{ProbeOptions: base, TrustOptions: trust, Method: method, Headers: joinHeaders(h), Body: data,
				Host: host, FollowRedirects: follow, ExpectStatus: expectStatus, Fail: fail}
			return runProbe(cmd.Context(), e, "http", args[0], o, func(w io.Writer, r *probe.Result) { httpDetails(w, r, include, showBody) })
		},
	}
	pf.add(cmd, true)
	fl := cmd.Flags()
	fl.StringArrayVarP(&headers, "header", "H", nil, `request header "Name: value" (repeatable)`)
	fl.StringVarP(&method, "request", "X", "", "request method (default GET, POST with -d)")
	fl.StringVarP(&data, "data", "d", "", "request body")
	fl.StringVar(&host, "host", "", "Host header and TLS server name")
	fl.BoolVarP(&pf.insecure, "insecure", "k", false, "do not verify the server certificate")
	fl.IntSliceVar(&expectStatus, "expect-status", nil, "acceptable status codes, e.g. 200,204")
	fl.BoolVarP(&fail, "fail", "f", false, "fail on a status of 400 or more (like curl -f)")
	fl.BoolVarP(&follow, "location", "L", false, "follow redirects")
	fl.BoolVarP(&include, "include", "i", false, "print the response headers")
	fl.BoolVar(&showBody, "body", false, "print the (bounded) response body")
	return cmd
}

func httpDetails(w io.Writer, r *probe.Result, include, body bool) {
	h := r.HTTP
	if h == nil || h.Status == 0 {
		return
	}
	fmt.Fprintf(w, "  %s %d %s, %d bytes", h.Proto, h.Status, h.StatusText, h.BodySize)
	if h.TLSVersion != "" {
		fmt.Fprintf(w, ", %s", h.TLSVersion)
	}
	if !h.CertExpiry.IsZero() {
		fmt.Fprintf(w, ", certificate expires %s", day(h.CertExpiry))
	}
	fmt.Fprintln(w)
	for _, u := range h.Redirects {
		fmt.Fprintf(w, "  redirected to %s\n", u)
	}
	if include {
		writeHeaders(w, h.Header)
	}
	if body && h.Body != "" {
		fmt.Fprintln(w, h.Body)
	}
}

// joinHeaders folds repeated headers into one comma-separated value each
// (RFC 9110 5.3), the registry's form.
func joinHeaders(h map[string][]string) map[string]string {
	out := make(map[string]string, len(h))
	for k, vs := range h {
		out[k] = strings.Join(vs, ", ")
	}
	return out
}
