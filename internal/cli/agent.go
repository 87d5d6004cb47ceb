package cli

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/dnsscience/dnsscience/internal/agent"
	"github.com/dnsscience/dnsscience/internal/geo"
	"github.com/dnsscience/dnsscience/internal/measure"
	"github.com/dnsscience/dnsscience/internal/netpolicy"
	"github.com/dnsscience/dnsscience/internal/traceroute"
)

// agentOptions are the agent command's flags.
type agentOptions struct {
	server, token         string
	name, city, country   string
	lat, lon              float64
	asn                   uint32
	publicAddress         string
	allow                 []string
	heartbeat, maxBackoff time.Duration
	unprivilegedTrace     bool
}

func newAgentCmd(e *env) *cobra.Command {
	o := &agentOptions{}
	var g geoFlags
	cmd := &cobra.Command{
		Use:   "agent",
		Short: "Run a remote location: connect out to a server and run its measurements",
		Long: `agent connects out to a dnsscience server (a WebSocket to its HTTP(S) port,
so outbound HTTPS is all it needs; or a NATS URL), authenticates with the
token 'dnsscience agents add NAME' printed, announces its location, and runs
the measurements the server sends it through the same engines as the
server, streaming their events back. It listens on no port and keeps no
database; it reconnects with backoff and buffers what it sends meanwhile.
The token may come from DNSSCIENCE_AGENT_TOKEN instead of --token.`,
		Example: `  dnsscience agent --server https://dnsscience.example.com --token dsa_paris_... --city Paris --country FR --lat 48.85 --lon 2.35
  DNSSCIENCE_AGENT_TOKEN=dsa_lab_... dnsscience agent --server http://10.0.0.1:8080 --allow 10.0.0.0/8`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runAgent(cmd, e, o, &g)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.server, "server", "", "the server's URL: http(s)://host[:port] or nats://host:port (required)")
	f.StringVar(&o.token, "token", os.Getenv("DNSSCIENCE_AGENT_TOKEN"), "the agent's token (env DNSSCIENCE_AGENT_TOKEN)")
	f.StringVar(&o.name, "name", "", "display name of the location (default: the agent's name)")
	f.StringVar(&o.city, "city", "", "city of the location")
	f.StringVar(&o.country, "country", "", "country code of the location (e.g. FR)")
	f.Float64Var(&o.lat, "lat", 0, "latitude of the location (with --lon)")
	f.Float64Var(&o.lon, "lon", 0, "longitude of the location (with --lat)")
	f.Uint32Var(&o.asn, "asn", 0, "network (AS number) the location measures from")
	f.StringVar(&o.publicAddress, "public-address", "", "the agent's public IP address: without --lat/--lon the server places it from its geo data for this address (default: the address the server sees it connect from)")
	f.StringArrayVar(&o.allow, "allow", nil, "CIDR the target policy allows although private (repeatable)")
	f.DurationVar(&o.heartbeat, "heartbeat", 5*time.Second, "heartbeat interval (offline after three are missed)")
	f.DurationVar(&o.maxBackoff, "max-backoff", 30*time.Second, "longest wait between connection attempts")
	f.BoolVar(&o.unprivilegedTrace, "unprivileged-trace", false, "trace with datagram sockets even as root")
	g.register(f)
	return cmd
}

// config checks the flags and builds the agent's configuration.
func (o *agentOptions) config(cmd *cobra.Command) (agent.Config, error) {
	cfg := agent.Config{Server: o.server, Token: o.token, Display: o.name, City: o.city, Country: o.country, ASN: o.asn,
		Version: Version, Heartbeat: o.heartbeat, MaxBackoff: o.maxBackoff}
	if o.server == "" {
		return cfg, errors.New("--server is required: the server's URL, e.g. https://dnsscience.example.com")
	}
	if o.token == "" {
		return cfg, errors.New("--token (or DNSSCIENCE_AGENT_TOKEN) is required: run `dnsscience agents add NAME` on the server")
	}
	if cmd.Flags().Changed("lat") != cmd.Flags().Changed("lon") {
		return cfg, errors.New("--lat and --lon go together")
	}
	if cmd.Flags().Changed("lat") {
		if o.lat < -90 || o.lat > 90 || o.lon < -180 || o.lon > 180 {
			return cfg, fmt.Errorf("--lat %g --lon %g: want a latitude in [-90, 90] and a longitude in [-180, 180]", o.lat, o.lon)
		}
		cfg.Latitude, cfg.Longitude = &o.lat, &o.lon
	}
	if o.publicAddress != "" {
		a, err := netip.ParseAddr(o.publicAddress)
		if err != nil || a.Zone() != "" {
			return cfg, fmt.Errorf("--public-address %q: want an IP address such as 203.0.113.7 or 2001:db8::7", o.publicAddress)
		}
		cfg.PublicAddress = a.String()
	}
	if o.heartbeat < 100*time.Millisecond {
		return cfg, fmt.Errorf("--heartbeat %s: want at least 100ms", o.heartbeat)
	}
	return cfg, nil
}

func runAgent(cmd *cobra.Command, e *env, o *agentOptions, g *geoFlags) error {
	cfg, err := o.config(cmd)
	if err != nil {
		return usageErr("%v", err)
	}
	policy := netpolicy.Default()
	for _, a := range o.allow {
		pre, err := netip.ParsePrefix(a)
		if err != nil {
			return usageErr("--allow %q: want a CIDR such as 10.20.0.0/16", a)
		}
		policy = policy.Allow(pre)
	}
	geoDB, err := g.open(e)
	if err != nil {
		return fmt.Errorf("opening geo data: %w", err)
	}
	defer geoDB.Close()
	tracer := &traceroute.Tracer{Unprivileged: o.unprivilegedTrace}
	defer tracer.Close()
	cfg.Env = &measure.Env{Dialer: policy.Dialer(), Policy: policy, Tracer: tracer, Geo: func() *geo.DB { return geoDB }}
	cfg.Log = slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	err = agent.Run(cmd.Context(), cfg)
	if errors.Is(err, agent.ErrRefused) {
		return failErr(err)
	}
	return err
}
