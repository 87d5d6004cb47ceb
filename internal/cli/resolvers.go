package cli

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/dnsscience/dnsscience/internal/dnsq"
)

func newResolversCmd(e *env) *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "resolvers",
		Short: "List the shipped public resolvers (or a resolver file)",
		Example: `  dnsscience resolvers
  dnsscience resolvers --json > my-resolvers.yaml.json
  dnsscience resolvers --file my-resolvers.yaml`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			rs := dnsq.ShippedResolvers()
			if file != "" {
				var err error
				if rs, err = dnsq.LoadResolvers(file); err != nil {
					return usageErr("%v", err)
				}
			}
			if e.json {
				return writeJSON(e.stdout, rs)
			}
			tw := tabwriter.NewWriter(e.stdout, 2, 8, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tOPERATOR\tIPV4\tDOT\tDOH\tLOCATION")
			for _, r := range rs {
				loc := ""
				if r.Location != nil {
					loc = r.Location.City + ", " + r.Location.Country
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Name, r.Operator, strings.Join(r.IPv4, " "), r.DoT, r.DoH, loc)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&file, "file", "", "list this YAML resolver file instead")
	return cmd
}
