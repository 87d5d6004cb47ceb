package measure

import (
	"context"
	"net/netip"
	"strings"
	"time"

	"github.com/dnsscience/dnsscience/internal/geo"
)

// GeoOptions are the options of a geo measurement (none).
type GeoOptions struct{}

// GeoResult is a geo measurement's result.
type GeoResult struct {
	Target    string     `json:"target"`
	Addresses []geo.Info `json:"addresses"`
}

func geoKind() Kind {
	return &spec[GeoOptions]{
		info: Info{Name: "geo", Summary: "where addresses are: city, country, network (ASN)",
			Target: "IP addresses separated by commas, or one host name", Class: "geo", Timeout: 15 * time.Second,
			Vars: []string{"geo.asn", "geo.as_org", "geo.country", "geo.city", "geo.located"}},
		prepare: prepareGeo,
		values:  valuesOf(geoValues),
	}
}

func prepareGeo(_ context.Context, env *Env, target string, _ *GeoOptions) (RunFunc, []string, error) {
	var addrs []netip.Addr
	var host string
	parts := strings.Split(target, ",")
	for _, part := range parts {
		a, name, err := hostAddr("target", strings.TrimSpace(part))
		if err == nil && name != "" && len(parts) > 1 {
			err = fieldErr("target", "%q is a host name; give addresses separated by commas, or one host name", part)
		}
		if err != nil {
			return nil, nil, err
		}
		if a.IsValid() {
			addrs = append(addrs, a)
		}
		host = name
	}
	return func(ctx context.Context, _ Emit) (any, error) {
		list := addrs
		if host != "" {
			found, err := env.lookup(ctx, host, 0, false)
			if err != nil {
				return nil, err
			}
			list = found
		}
		db := env.geoDB()
		if db == nil {
			var err error
			if db, err = geo.Open(geo.Config{}); err != nil {
				return nil, err
			}
		}
		return &GeoResult{Target: target, Addresses: db.Enrich(ctx, list)}, nil
	}, nil, nil
}

func geoValues(res *GeoResult) *Values {
	m := map[string]any{"ok": len(res.Addresses) > 0}
	if len(res.Addresses) > 0 {
		a := res.Addresses[0]
		m["address"], m["geo.asn"], m["geo.as_org"] = a.Addr.String(), float64(a.ASN), a.ASOrg
		m["geo.country"], m["geo.city"], m["geo.located"] = a.CountryCode, a.City, a.Located
	}
	return &Values{M: m}
}
