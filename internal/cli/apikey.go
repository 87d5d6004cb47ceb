package cli

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/dnsscience/dnsscience/internal/store"
)

// createdKey is what apikey create prints with --json: the key's description
// and, this once, the key itself.
type createdKey struct {
	store.APIKey
	Key string `json:"key"`
}

func newAPIKeyCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "apikey",
		Short: "Create, list and revoke the server's API keys",
		Long: `apikey manages the keys that lift the server's rate limits; admin keys also
open the admin routes. Keys look like dss_ followed by 52 characters; the
store keeps only their SHA-256 hash, so a key is shown once, when created.`,
		Example: `  dnsscience apikey create "ci pipeline"
  dnsscience apikey create ops --admin --data /var/lib/dnsscience
  dnsscience apikey list --json
  dnsscience apikey revoke 7kq2m4xw3pd5ny6a`,
		Args: cobra.NoArgs,
	}
	sf := addStoreFlags(cmd)
	cmd.AddCommand(newAPIKeyCreateCmd(e, sf), newAPIKeyListCmd(e, sf), newAPIKeyRevokeCmd(e, sf))
	return cmd
}

func newAPIKeyCreateCmd(e *env, sf *storeFlags) *cobra.Command {
	var admin bool
	cmd := &cobra.Command{
		Use:     "create NAME",
		Short:   "Create a key and print it (the only time it is shown)",
		Example: `  dnsscience apikey create "ci pipeline"` + "\n" + `  dnsscience apikey create ops --admin`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := sf.open(cmd.Context(), false)
			if err != nil {
				return err
			}
			defer s.Close()
			plain, k, err := s.CreateAPIKey(cmd.Context(), args[0], admin)
			if errors.Is(err, store.ErrInvalid) {
				return usageErr("bad key name %q: give 1 to 200 characters", args[0])
			}
			if err != nil {
				return err
			}
			if e.json {
				return writeJSON(e.stdout, createdKey{APIKey: k, Key: plain})
			}
			fmt.Fprintf(e.stderr, "created API key %s (%q%s); store it now, it is not shown again:\n", k.ID, k.Name, adminText(k.Admin))
			_, err = fmt.Fprintln(e.stdout, plain)
			return err
		},
	}
	cmd.Flags().BoolVar(&admin, "admin", false, "the key may use the admin routes")
	return cmd
}

func newAPIKeyListCmd(e *env, sf *storeFlags) *cobra.Command {
	return listCmd(e, sf, &cobra.Command{Use: "list", Short: "List keys (never the keys themselves: id, name, prefix, use)",
		Example: "  dnsscience apikey list\n  dnsscience apikey list --json"},
		(*store.Store).ListAPIKeys, "ID\tNAME\tPREFIX\tADMIN\tCREATED\tLAST USED\tREVOKED",
		func(k store.APIKey) string {
			return fmt.Sprintf("%s\t%s\t%s…\t%t\t%s\t%s\t%s", k.ID, k.Name, k.Prefix, k.Admin,
				timeText(k.CreatedAt), timeText(k.LastUsedAt), timeText(k.RevokedAt))
		})
}

// listCmd completes cmd as a list of the store's rows: JSON (an empty list,
// never null) with --json, else a table with header and one row each.
func listCmd[T any](e *env, sf *storeFlags, cmd *cobra.Command, list func(*store.Store, context.Context) ([]T, error),
	header string, row func(T) string) *cobra.Command {
	cmd.Args = cobra.NoArgs
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		s, err := sf.open(cmd.Context(), true)
		if err != nil {
			return err
		}
		defer s.Close()
		rows, err := list(s, cmd.Context())
		if err != nil {
			return err
		}
		if e.json {
			if rows == nil {
				rows = []T{}
			}
			return writeJSON(e.stdout, rows)
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, header)
		for _, r := range rows {
			fmt.Fprintln(tw, row(r))
		}
		return tw.Flush()
	}
	return cmd
}

func newAPIKeyRevokeCmd(e *env, sf *storeFlags) *cobra.Command {
	return revokeCmd(e, sf, &cobra.Command{Use: "revoke ID", Short: "Revoke a key: requests with it are refused from now on",
		Example: "  dnsscience apikey revoke 7kq2m4xw3pd5ny6a"},
		(*store.Store).RevokeAPIKey, "id", "no API key with id %q (see dnsscience apikey list)", "revoked API key %s\n")
}

// revokeCmd completes cmd as the revocation of the store's row named by its
// one argument: field names it in the JSON answer, missing and done are the
// texts for an unknown one (exit 1) and for success.
func revokeCmd(e *env, sf *storeFlags, cmd *cobra.Command, revoke func(*store.Store, context.Context, string) error,
	field, missing, done string) *cobra.Command {
	cmd.Args = cobra.ExactArgs(1)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		s, err := sf.open(cmd.Context(), true)
		if err != nil {
			return err
		}
		defer s.Close()
		err = revoke(s, cmd.Context(), args[0])
		if errors.Is(err, store.ErrNotFound) {
			return failErr(fmt.Errorf(missing, args[0]))
		}
		if err != nil {
			return err
		}
		if e.json {
			return writeJSON(e.stdout, map[string]any{field: args[0], "revoked": true})
		}
		_, err = fmt.Fprintf(e.stdout, done, args[0])
		return err
	}
	return cmd
}

func adminText(admin bool) string {
	if admin {
		return ", admin"
	}
	return ""
}

// timeText renders a time for tables: RFC 3339 in UTC, "-" when unset.
func timeText(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}
