package cli

import (
	"fmt"
	"io"
	"net/netip"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dnsscience/dnsscience/internal/geo"
)

// geoResult is the JSON shape of `dnsscience geo` (docs/JSON.md).
type geoResult struct {
	Addresses    []geo.Info        `json:"addresses"`
	Attributions []geo.Attribution `json:"attributions"`
}

func newGeoCmd(e *env) *cobra.Command {
	var g geoFlags
	var about bool
	cmd := &cobra.Command{
		Use:   "geo IP...",
		Short: "Show the location and network (ASN) of IP addresses, from local data files",
		Long: `Show what the local data files know about each address: city, region,
country, continent, coordinates, ASN and organisation, and which file answered.
Special-purpose addresses (private, CGNAT, loopback, link-local, documentation,
multicast, reserved ...) are labelled and not geolocated. Operator overrides
(--geo-overrides) come first. Nothing leaves the machine: lookups read the
files only.

Data: 'make geo' fetches DB-IP Lite City and ip-location-db ASN ranges
(CC BY 4.0) into data/. Licensed MaxMind GeoLite2/GeoIP2 or IPinfo Lite files
dropped into the data directory are used first, or name files with --geo-city
and --geo-asn. --about lists the files in use and the attribution their
licences require.

Exit status: 0 when something is known about every address, 1 otherwise.`,
		Example: `  dnsscience geo 8.8.8.8
  dnsscience geo 1.1.1.1 2606:4700:4700::1111 10.0.0.1 --json
  dnsscience geo --about
  dnsscience geo 81.2.69.142 --geo-city GeoLite2-City.mmdb --geo-asn GeoLite2-ASN.mmdb
  DNSSCIENCE_GEO_OVERRIDES=overrides.yaml dnsscience geo 10.20.1.1`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !about && len(args) == 0 {
				return usageErr("geo needs at least one IP address (or --about)")
			}
			addrs, err := parseGeoAddrs(args)
			if err != nil {
				return err
			}
			db, err := g.open(e)
			if err != nil {
				return &exitError{code: ExitInternal, err: err}
			}
			defer db.Close()
			if about {
				return printGeoAbout(e, db)
			}
			return printGeo(e, db, db.Enrich(cmd.Context(), addrs))
		},
	}
	cmd.Flags().BoolVar(&about, "about", false, "list the data files in use and the attribution their licences require")
	g.register(cmd.Flags())
	return cmd
}

func parseGeoAddrs(args []string) ([]netip.Addr, error) {
	addrs := make([]netip.Addr, 0, len(args))
	for _, a := range args {
		ip, err := netip.ParseAddr(strings.Trim(a, "[]"))
		if err != nil {
			return nil, usageErr("bad address %q: want an IPv4 or IPv6 address such as 8.8.8.8 or 2001:db8::1 (geo does not resolve names)", a)
		}
		addrs = append(addrs, ip)
	}
	return addrs, nil
}

func printGeo(e *env, db *geo.DB, infos []geo.Info) error {
	unknown := 0
	for _, in := range infos {
		if in.Special == "" && in.LocationSource == "" && in.ASNSource == "" {
			unknown++
		}
	}
	if e.json {
		if err := writeJSON(e.stdout, geoResult{Addresses: infos, Attributions: db.Attributions()}); err != nil {
			return err
		}
	} else {
		for i, in := range infos {
			if i > 0 {
				fmt.Fprintln(e.stdout)
			}
			writeGeoText(e.stdout, in)
		}
	}
	if !db.Loaded() {
		e.log.Warn("no geo data files loaded: run 'make geo' or pass --geo-city/--geo-asn")
	}
	if unknown > 0 {
		return errSilentFail
	}
	return nil
}

// writeGeoText prints one address as aligned "key  value" lines.
func writeGeoText(w io.Writer, in geo.Info) {
	fmt.Fprintln(w, in.Addr)
	line := func(k, v string) {
		if v != "" {
			fmt.Fprintf(w, "  %-9s %s\n", k, v)
		}
	}
	line("label", in.Label)
	if in.Special != "" {
		line("special", in.Special+": "+in.SpecialNote)
	}
	line("place", joinNonEmpty(", ", in.City, in.Region, countryText(in), in.Continent))
	if in.Located {
		coords := fmt.Sprintf("%.4f, %.4f", in.Latitude, in.Longitude)
		if in.AccuracyKM > 0 {
			coords += fmt.Sprintf(" (±%d km)", in.AccuracyKM)
		}
		line("coords", coords)
	}
	line("timezone", in.TimeZone)
	if in.ASN != 0 {
		line("network", joinNonEmpty(" ", fmt.Sprintf("AS%d", in.ASN), in.ASOrg, in.ASDomain))
	}
	var src []string
	if in.LocationSource != "" {
		s := "location " + in.LocationSource
		if in.Network.IsValid() {
			s += " (" + in.Network.String() + ")"
		}
		src = append(src, s)
	}
	if in.ASNSource != "" {
		src = append(src, "ASN "+in.ASNSource)
	}
	line("source", strings.Join(src, ", "))
	line("note", in.Note)
}

func countryText(in geo.Info) string {
	switch {
	case in.Country != "" && in.CountryCode != "":
		return in.Country + " (" + in.CountryCode + ")"
	case in.Country != "":
		return in.Country
	}
	return in.CountryCode
}

func joinNonEmpty(sep string, parts ...string) string {
	var keep []string
	for _, p := range parts {
		if p != "" {
			keep = append(keep, p)
		}
	}
	return strings.Join(keep, sep)
}

func printGeoAbout(e *env, db *geo.DB) error {
	st := db.Status()
	if e.json {
		return writeJSON(e.stdout, st)
	}
	w := e.stdout
	fmt.Fprintln(w, "Geo data files")
	for _, s := range st.Sources {
		state := "loaded"
		if !s.Loaded {
			state = "not loaded: " + s.Note
		}
		fmt.Fprintf(w, "  %-9s %s\n            %s\n", s.Role, s.Path, state)
		if s.Loaded {
			detail := joinNonEmpty(", ", s.Provider, s.Format)
			if !s.BuildTime.IsZero() && s.BuildTime.Unix() > 0 {
				detail += ", built " + s.BuildTime.Format("2006-01-02")
			}
			switch {
			case s.Records > 0 && strings.HasPrefix(s.Format, "mmdb"):
				detail += fmt.Sprintf(", %d tree nodes", s.Records)
			case s.Records > 0:
				detail += fmt.Sprintf(", %d entries", s.Records)
			}
			fmt.Fprintf(w, "            %s\n", detail)
		}
	}
	if !db.Loaded() {
		fmt.Fprintln(w, "\nNo location or ASN data loaded: run 'make geo', or pass --geo-city/--geo-asn.")
	}
	if len(st.Attributions) > 0 {
		fmt.Fprintln(w, "\nAttribution (required by the data licences)")
		for _, a := range st.Attributions {
			fmt.Fprintf(w, "  %s — %s (%s)\n", a.Text, a.URL, a.License)
		}
	}
	return nil
}
