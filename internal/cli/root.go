// Package cli holds the dnsscience command line: one file per subcommand,
// each a thin face over an engine package that renders its results as text,
// JSON or CSV.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

// Exit statuses, documented in the README.
const (
	ExitOK       = 0 // the command ran and what it measured is healthy
	ExitFailure  = 1 // the command ran and what it measured failed (no answer, inconsistent, probe failed)
	ExitUsage    = 2 // bad input: unknown flag, malformed name, bad server syntax ...
	ExitInternal = 3 // the command could not run (I/O error, missing privileges ...)
)

// Version is set at build time with -ldflags "-X .../internal/cli.Version=...".
var Version = "dev"

// exitError carries an exit status out of a command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageErr marks err as bad input (exit status 2).
func usageErr(format string, args ...any) error {
	return &exitError{code: ExitUsage, err: fmt.Errorf(format, args...)}
}

// failErr marks err as a failed measurement (exit status 1).
func failErr(err error) error { return &exitError{code: ExitFailure, err: err} }

// silentFail ends a command with exit status 1 without printing anything more:
// the result was already printed.
var errSilentFail = &exitError{code: ExitFailure, err: errors.New("")}

// env is what every command gets from Run: its streams, a logger and the
// global output flags. It replaces process globals so commands are testable.
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	log    *slog.Logger
	json   bool
	// isTerminal reports whether w is an interactive terminal (live tables,
	// progress bars).
	isTerminal func(w io.Writer) bool
}

// Run executes the command line args (args[0] is the program name) and
// returns the process exit status.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr, isTerminal: isTerminal}
	root := newRoot(e)
	root.SetArgs(args[1:])
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var xe *exitError
	if errors.As(err, &xe) {
		if msg := xe.Error(); msg != "" {
			fmt.Fprintf(stderr, "dnsscience: %s\n", msg)
		}
		return xe.code
	}
	fmt.Fprintf(stderr, "dnsscience: %s\n", err)
	if isFlagError(err) {
		return ExitUsage
	}
	if ctx.Err() != nil {
		return ExitFailure
	}
	return ExitInternal
}

// isFlagError reports errors that cobra raises for bad flags or arguments.
func isFlagError(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown flag", "unknown shorthand", "flag needs an argument",
		"invalid argument", "unknown command", "accepts ", "requires at least", "requires exactly",
		"bad flag syntax", "if any flags in the group"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}

func newRoot(e *env) *cobra.Command {
	var logLevel string
	root := &cobra.Command{
		Use:   "dnsscience",
		Short: "DNS and network diagnostics, and infrastructure health checks",
		Long: `dnsscience is one binary for DNS and network diagnostics: dig-grade DNS
queries over UDP, TCP, DoT and DoH, delegation traces from the root, propagation
across many resolvers, bulk lookups, and more.

Results go to stdout (text, or JSON with --json); logs go to stderr.

Exit status: 0 healthy, 1 what was measured failed, 2 bad input, 3 could not run.`,
		Version:       Version,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			var lvl slog.Level
			if err := lvl.UnmarshalText([]byte(logLevel)); err != nil {
				return usageErr("bad --log-level %q: want debug, info, warn or error", logLevel)
			}
			e.log = slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: lvl}))
			return nil
		},
	}
	root.PersistentFlags().BoolVar(&e.json, "json", false, "print results as JSON (schema in docs/JSON.md)")
	root.PersistentFlags().StringVar(&logLevel, "log-level", "warn", "log level on stderr: debug, info, warn, error")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &exitError{code: ExitUsage, err: err}
	})
	e.log = slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	for _, add := range commands {
		root.AddCommand(add(e))
	}
	return root
}

// commands lists the constructors of every subcommand; each subcommand file
// appends itself in an init-free way by being listed here.
var commands = []func(*env) *cobra.Command{
	newVersionCmd,
	newDigCmd,
	newPropagationCmd,
	newResolversCmd,
	newServeCmd,
	newTCPCmd, newCertCmd, newHTTPCmd, newWSCmd, newCheckCmd, newDiagnoseCmd,
	newBackupCmd, newRestoreCmd, newAPIKeyCmd, newAgentsCmd, newAgentCmd,
	newGeoCmd, newAlertCmd,
	newTraceCmd,
	newScanCmd,
	newSnapshotCmd, newDiffCmd, newRootsCmd,
}

func newVersionCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if e.json {
				return writeJSON(e.stdout, map[string]string{"version": Version})
			}
			_, err := fmt.Fprintf(e.stdout, "dnsscience %s\n", Version)
			return err
		},
	}
}

// isTerminal reports whether w is a character device such as a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
