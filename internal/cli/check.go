package cli

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/dnsscience/dnsscience/internal/alert"
	"github.com/dnsscience/dnsscience/internal/check"
	"github.com/dnsscience/dnsscience/internal/dnsq"
	"github.com/dnsscience/dnsscience/internal/measure"
	"github.com/dnsscience/dnsscience/internal/netpolicy"
	"github.com/spf13/cobra"
)

func newCheckCmd(e *env) *cobra.Command {
	var (
		minSuccess  float64
		quiet       bool
		output      string
		concurrency int
		resolver    string
		watch       bool
		notify      string
	)
	cmd := &cobra.Command{
		Use:   "check FILE...",
		Short: "Run suites of checks (YAML) and report PASS/FAIL and the success rate",
		Long: `Run every check of the suite files concurrently and print one line per
check (PASS or FAIL, name, duration, and for a failure the condition with the
values it read), then the overall success rate. The suite format and the
condition language are documented in docs/CHECKS.md. ${NAME} in a suite reads
the environment variable NAME.

Exit status 0 when the success rate reaches --min-success (default 100), 1
when it does not, 2 when a suite file is invalid (the error names file and line).
With --notify CHANNEL (a channel of the suites, docs/ALERTS.md), a run below
--min-success also sends one summary there (exit status 3 when that fails).

--watch runs the checks continuously instead, as the server's monitor does
(each at its interval, down after failure_threshold failures, up after
success_threshold successes; docs/MONITORING.md), and prints each state
change until interrupted.`,
		Example: `  dnsscience check examples/staging.yaml
  dnsscience check suites/*.yaml --min-success 90 --quiet
  dnsscience check examples/staging.yaml --output junit > report.xml
  dnsscience check examples/staging.yaml --output json
  dnsscience check examples/staging.yaml --watch
  dnsscience check examples/staging.yaml --min-success 90 --notify ops`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			if minSuccess < 0 || minSuccess > 100 {
				return usageErr("bad --min-success %g: want a percentage from 0 to 100", minSuccess)
			}
			if e.json && output == "text" {
				output = "json"
			}
			if output != "text" && output != "json" && output != "junit" {
				return usageErr("bad --output %q: want text, json or junit", output)
			}
			if concurrency < 0 {
				return usageErr("bad --concurrency %d: want 1 or more (0 for the suite's setting)", concurrency)
			}
			var suites []*check.Suite
			for _, f := range files {
				s, err := check.Load(f, nil)
				if err != nil {
					return usageErr("%v", err)
				}
				e.log.Debug("suite loaded", "file", f, "checks", len(s.Checks))
				suites = append(suites, s)
			}
			var snd alert.Sender
			if notify != "" {
				var err error
				if snd, err = suiteSender(suites, notify); err != nil { // alert.go
					return err
				}
			}
			dialer, err := resolverDialer(resolver)
			if err != nil {
				return err
			}
			runner := &check.Runner{Concurrency: concurrency, Env: &measure.Env{Dialer: dialer}}
			if watch {
				return runWatch(cmd.Context(), e, suites, runner)
			}
			results := runner.Run(cmd.Context(), suites, func(r check.Result) {
				e.log.Debug("check done", "name", r.Name, "pass", r.Pass, "duration", r.Duration)
			})
			sum := check.Summarize(results)
			if err := writeCheckReport(e.stdout, output, quiet, suites, results, sum); err != nil {
				return err
			}
			if sum.Rate < minSuccess {
				if snd != nil {
					if err := notifySummary(cmd.Context(), snd, notify, suites, results, sum, minSuccess); err != nil {
						return &exitError{code: ExitInternal, err: err}
					}
				}
				return errSilentFail
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.Float64Var(&minSuccess, "min-success", 100, "success rate in percent needed for exit status 0")
	fl.BoolVarP(&quiet, "quiet", "q", false, "print only failures and the summary")
	fl.StringVarP(&output, "output", "o", "text", "output format: text, json or junit")
	fl.IntVar(&concurrency, "concurrency", 0, "checks run at once (default: the suite's, or 8)")
	fl.StringVar(&notify, "notify", "", "when the success rate is below --min-success, send one summary to this channel of the suites (docs/ALERTS.md)")
	fl.BoolVar(&watch, "watch", false, "run the checks continuously at their intervals and print state changes")
	fl.StringVar(&resolver, "resolver", "", "resolve target host names through this DNS server (HOST:PORT, UDP) instead of the system resolver")
	return cmd
}

func writeCheckReport(w io.Writer, output string, quiet bool, suites []*check.Suite, rs []check.Result, sum check.Summary) error {
	switch output {
	case "json":
		return writeJSON(w, struct {
			Results []check.Result `json:"results"`
			Summary check.Summary  `json:"summary"`
		}{rs, sum})
	case "junit":
		return writeJUnit(w, suites, rs, sum)
	}
	width := 0
	for _, r := range rs {
		width = max(width, len(r.Name))
	}
	for _, r := range rs {
		if quiet && r.Pass {
			continue
		}
		fmt.Fprintln(w, checkLine(r, width))
	}
	_, err := fmt.Fprintf(w, "Overall: %.1f%% (%d/%d)\n", sum.Rate, sum.Passed, sum.Total)
	return err
}

// checkLine renders "PASS  name  12.3ms" or "FAIL  name  12.3ms  cond (actual); ...".
func checkLine(r check.Result, width int) string {
	status := "PASS"
	if !r.Pass {
		status = "FAIL"
	}
	line := fmt.Sprintf("%s  %-*s  %8s", status, width, r.Name, fmtDur(r.Duration))
	if r.Pass {
		return line
	}
	return line + "  " + failureText(r)
}

func failureText(r check.Result) string {
	var parts []string
	for _, f := range r.Failed {
		s := f.Condition
		if f.Actual != "" {
			s += " (got " + f.Actual + ")"
		}
		if f.Error != "" {
			s += " [" + f.Error + "]"
		}
		parts = append(parts, s)
	}
	text := strings.Join(parts, "; ")
	if r.Error != "" {
		text += ": " + r.Error
	}
	return text
}

// resolverDialer returns a dialer that allows every target and, when addr
// is set, resolves host names through the DNS server at addr.
func resolverDialer(addr string) (*netpolicy.Dialer, error) {
	d := netpolicy.AllowAll().Dialer()
	if addr == "" {
		return d, nil
	}
	srv, err := dnsq.ParseServer(addr)
	if err != nil || srv.Transport != dnsq.UDP {
		return nil, usageErr("bad --resolver %q: want HOST:PORT of a DNS server", addr)
	}
	d.Base.Resolver = &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var nd net.Dialer
		return nd.DialContext(ctx, network, srv.Addr)
	}}
	return d, nil
}

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
	seconds  float64
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

func writeJUnit(w io.Writer, suites []*check.Suite, rs []check.Result, sum check.Summary) error {
	out := junitSuites{Name: "dnsscience check", Tests: sum.Total, Failures: sum.Total - sum.Passed}
	byFile := map[string]*junitSuite{}
	var order []string
	for _, s := range suites {
		if _, ok := byFile[s.File]; !ok {
			byFile[s.File] = &junitSuite{Name: s.File}
			order = append(order, s.File)
		}
	}
	for _, r := range rs {
		js := byFile[r.File]
		tc := junitCase{Name: r.Name, Classname: r.Kind, Time: fmt.Sprintf("%.3f", r.Duration.Seconds())}
		js.Tests++
		if !r.Pass {
			js.Failures++
			msg := failureText(r)
			tc.Failure = &junitFailure{Message: msg, Type: "check", Text: fmt.Sprintf("%s:%d %s %s\n%s", r.File, r.Line, r.Kind, r.Target, msg)}
		}
		js.Cases = append(js.Cases, tc)
		js.seconds += r.Duration.Seconds()
	}
	for _, f := range order {
		byFile[f].Time = fmt.Sprintf("%.3f", byFile[f].seconds)
		out.Suites = append(out.Suites, *byFile[f])
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
