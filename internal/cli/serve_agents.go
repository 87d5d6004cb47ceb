package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/dnsscience/dnsscience/internal/bus"
	"github.com/dnsscience/dnsscience/internal/geo"
	"github.com/dnsscience/dnsscience/internal/store"
)

// startAgents starts the agents bus for serve: the embedded NATS server,
// bridged to natsURL when set.
func startAgents(ctx context.Context, natsURL string, st *store.Store, g *geo.DB, log *slog.Logger) (*bus.Bus, error) {
	b, err := bus.Start(ctx, bus.Config{Store: st, External: natsURL, Log: log, Geo: func() *geo.DB { return g }})
	if err != nil {
		return nil, fmt.Errorf("starting the agents bus: %w", err)
	}
	return b, nil
}

func newAgentsCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "agents",
		Short: "Register, list and revoke remote locations (agents)",
		Long: `agents manages the credentials of remote locations. 'agents add NAME'
prints a token (shown once; the store keeps its SHA-256 hash) to give to
'dnsscience agent --server URL --token TOKEN'. NAME is the location's id:
lowercase letters, digits and '-'. A revoked agent is disconnected within a
second by the servers using the store, and refused from then on.`,
		Example: `  dnsscience agents add paris
  dnsscience agents list
  dnsscience agents revoke paris`,
		Args: cobra.NoArgs,
	}
	sf := addStoreFlags(cmd)
	cmd.AddCommand(newAgentsAddCmd(e, sf), newAgentsListCmd(e, sf), newAgentsRevokeCmd(e, sf))
	return cmd
}

func newAgentsAddCmd(e *env, sf *storeFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "add NAME",
		Short: "Register an agent and print its token (the only time it is shown)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := sf.open(cmd.Context(), false)
			if err != nil {
				return err
			}
			defer s.Close()
			token, a, err := s.CreateAgent(cmd.Context(), args[0])
			if errors.Is(err, store.ErrInvalid) {
				return usageErr("%v", err)
			}
			if err != nil {
				return err
			}
			if e.json {
				return writeJSON(e.stdout, map[string]any{"agent": a, "token": token})
			}
			fmt.Fprintf(e.stderr, "registered agent %s; store the token now, it is not shown again. Run:\n  dnsscience agent --server URL --token TOKEN\n", a.Name)
			_, err = fmt.Fprintln(e.stdout, token)
			return err
		},
	}
}

func newAgentsListCmd(e *env, sf *storeFlags) *cobra.Command {
	return listCmd(e, sf, &cobra.Command{Use: "list", Short: "List agents: name, location, version, last seen, revoked"},
		(*store.Store).ListAgents, "NAME\tPREFIX\tCITY\tCOUNTRY\tVERSION\tCREATED\tLAST SEEN\tREVOKED",
		func(a store.Agent) string {
			return fmt.Sprintf("%s\t%s…\t%s\t%s\t%s\t%s\t%s\t%s", a.Name, a.Prefix, dash(a.City), dash(a.Country), dash(a.Version),
				timeText(a.CreatedAt), timeText(a.LastSeenAt), timeText(a.RevokedAt))
		})
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func newAgentsRevokeCmd(e *env, sf *storeFlags) *cobra.Command {
	return revokeCmd(e, sf, &cobra.Command{Use: "revoke NAME", Short: "Revoke an agent: running servers disconnect it and refuse it from now on"},
		(*store.Store).RevokeAgent, "name", "no agent named %q (see dnsscience agents list)", "revoked agent %s\n")
}
