package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/dnsscience/dnsscience/internal/alert"
	"github.com/dnsscience/dnsscience/internal/check"
	"github.com/dnsscience/dnsscience/internal/netpolicy"
)

func newAlertCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "alert",
		Short: "Alert channels: send a test message (docs/ALERTS.md)",
	}
	cmd.AddCommand(newAlertTestCmd(e))
	return cmd
}

func newAlertTestCmd(e *env) *cobra.Command {
	var checksFile string
	cmd := &cobra.Command{
		Use:   "test CHANNEL --checks FILE",
		Short: "Send a test message to a channel of a suite file",
		Long: `Send a test message to CHANNEL, one of the channels: of the suite file
given with --checks (secrets from ${NAME} or file:PATH as the server reads
them). Exit status 0 when the receiver accepted it, 2 for a bad suite or an
unknown channel, 3 when the delivery failed (the error says why, never the
channel's secrets).`,
		Example: `  SLACK_WEBHOOK_URL=https://hooks.slack.com/services/... dnsscience alert test ops --checks checks.yaml`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if checksFile == "" {
				return usageErr("alert test needs --checks FILE: the suite file that defines channel %s", args[0])
			}
			s, err := check.Load(checksFile, nil)
			if err != nil {
				return usageErr("%v", err)
			}
			snd, err := suiteSender([]*check.Suite{s}, args[0])
			if err != nil {
				return err
			}
			name := s.Name
			if name == "" {
				name = checksFile
			}
			now := time.Now().UTC()
			m := &alert.Message{Version: 1, Event: alert.EventTest, Key: alert.Key("test", "", now, alert.EventTest, args[0]),
				Check: alert.CheckInfo{ID: "test", Name: name}, At: now, Severity: "info"}
			if err := snd.Send(cmd.Context(), m); err != nil {
				return &exitError{code: ExitInternal, err: fmt.Errorf("sending the test message: %w", err)}
			}
			fmt.Fprintf(e.stdout, "sent a test message to %s\n", args[0])
			return nil
		},
	}
	cmd.Flags().StringVar(&checksFile, "checks", "", "suite file defining the channel")
	return cmd
}

// suiteSender finds channel name among the suites' channels and builds its
// sender; from the command line every address may be reached.
func suiteSender(suites []*check.Suite, name string) (alert.Sender, error) {
	var names []string
	for _, s := range suites {
		for _, c := range s.Channels {
			if c.Name == name {
				snd, err := alert.Build(c, &alert.Env{Policy: netpolicy.AllowAll()})
				if err != nil {
					return nil, usageErr("%v", err)
				}
				return snd, nil
			}
			names = append(names, c.Name)
		}
	}
	if len(names) == 0 {
		return nil, usageErr("no channel %q: the suite defines no channels (add them under channels:, docs/ALERTS.md)", name)
	}
	return nil, usageErr("no channel %q; channels: %s", name, strings.Join(names, ", "))
}

// notifySummary sends one summary of a one-shot run below --min-success.
func notifySummary(ctx context.Context, snd alert.Sender, channel string, suites []*check.Suite, rs []check.Result, sum check.Summary, minSuccess float64) error {
	var names []string
	for _, s := range suites {
		n := s.Name
		if n == "" {
			n = s.File
		}
		names = append(names, n)
	}
	now := time.Now().UTC()
	m := &alert.Message{Version: 1, Event: alert.EventSummary, Key: alert.Key(strings.Join(names, ","), "", now, alert.EventSummary, channel),
		Check: alert.CheckInfo{ID: check.Slug(strings.Join(names, " ")), Name: strings.Join(names, ", ")}, Status: "down", At: now, Severity: "critical",
		Summary: &alert.Summary{Passed: sum.Passed, Total: sum.Total, Rate: sum.Rate, MinSuccess: minSuccess}}
	for _, r := range rs {
		if !r.Pass {
			m.Summary.Failing = append(m.Summary.Failing, r.Name+": "+failureText(r))
		}
	}
	if err := snd.Send(ctx, m); err != nil {
		return fmt.Errorf("sending the summary to %s: %w", channel, err)
	}
	return nil
}
