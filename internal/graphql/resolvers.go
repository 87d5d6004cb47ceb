package graphql

// THIS CODE WILL BE UPDATED WITH SCHEMA CHANGES. PREVIOUS IMPLEMENTATION FOR SCHEMA CHANGES WILL BE KEPT IN THE COMMENT SECTION. IMPLEMENTATION FOR UNCHANGED SCHEMA WILL BE KEPT.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/dnsscience/dnsscience/internal/dnsq"
	"github.com/dnsscience/dnsscience/internal/geo"
	"github.com/dnsscience/dnsscience/internal/measure"
	"github.com/dnsscience/dnsscience/internal/monitor"
	"github.com/dnsscience/dnsscience/internal/runner"
	"github.com/dnsscience/dnsscience/internal/store"
	"github.com/dnsscience/dnsscience/internal/traceroute"
)

// Resolver resolves the schema's fields over the face's options.
type Resolver struct{ opt *Options }

// Labels is the resolver for the labels field.
func (r *checkResolver) Labels(ctx context.Context, obj *monitor.CheckView) (any, error) {
	if len(obj.Labels) == 0 {
		return nil, nil
	}
	return obj.Labels, nil
}

// LastResult is the resolver for the lastResult field.
func (r *checkResolver) LastResult(ctx context.Context, obj *monitor.CheckView) (any, error) {
	if obj.Last == nil {
		return nil, nil
	}
	return jsonValue(obj.Last)
}

// Transitions is the resolver for the transitions field.
func (r *checkResolver) Transitions(ctx context.Context, obj *monitor.CheckView, limit *int) ([]*store.CheckTransition, error) {
	n := 20
	if limit != nil {
		if *limit < 1 || *limit > 1000 {
			return nil, &measure.FieldError{Field: "limit", Detail: "want 1 to 1000"}
		}
		n = *limit
	}
	m, err := r.monitor()
	if err != nil {
		return nil, err
	}
	ts, err := m.Transitions(ctx, obj.ID, n)
	if err != nil {
		return nil, err
	}
	return pointers(ts), nil
}

// Addr is the resolver for the addr field.
func (r *geoInfoResolver) Addr(ctx context.Context, obj *geo.Info) (string, error) {
	return obj.Addr.String(), nil
}

// Asn is the resolver for the asn field.
func (r *geoInfoResolver) Asn(ctx context.Context, obj *geo.Info) (*int, error) {
	return asn(obj.ASN), nil
}

// Raw is the resolver for the raw field.
func (r *geoInfoResolver) Raw(ctx context.Context, obj *geo.Info) (any, error) {
	return jsonValue(obj)
}

// LossPct is the resolver for the lossPct field.
func (r *hopResolver) LossPct(ctx context.Context, obj *traceroute.Hop) (float64, error) {
	return obj.Stats.LossPct, nil
}

// AvgMs is the resolver for the avgMs field.
func (r *hopResolver) AvgMs(ctx context.Context, obj *traceroute.Hop) (float64, error) {
	return obj.Stats.AvgMS, nil
}

// BestMs is the resolver for the bestMs field.
func (r *hopResolver) BestMs(ctx context.Context, obj *traceroute.Hop) (float64, error) {
	return obj.Stats.BestMS, nil
}

// WorstMs is the resolver for the worstMs field.
func (r *hopResolver) WorstMs(ctx context.Context, obj *traceroute.Hop) (float64, error) {
	return obj.Stats.WorstMS, nil
}

// Addr is the resolver for the addr field.
func (r *hopAddrResolver) Addr(ctx context.Context, obj *traceroute.HopAddr) (string, error) {
	return obj.Addr.String(), nil
}

// Asn is the resolver for the asn field.
func (r *hopAddrResolver) Asn(ctx context.Context, obj *traceroute.HopAddr) (*int, error) {
	return asn(obj.ASN), nil
}

// Description is the resolver for the description field.
func (r *kindOptionResolver) Description(ctx context.Context, obj *measure.Field) (string, error) {
	return obj.Doc, nil
}

// Asn is the resolver for the asn field.
func (r *locationResolver) Asn(ctx context.Context, obj *runner.LocationStatus) (*int, error) {
	return asn(obj.ASN), nil
}

// Kind is the resolver for the kind field.
func (r *measurementResolver) Kind(ctx context.Context, obj *store.Measurement) (string, error) {
	return obj.Type, nil
}

// Options is the resolver for the options field.
func (r *measurementResolver) Options(ctx context.Context, obj *store.Measurement) (any, error) {
	return rawJSON(obj.Options)
}

// Result is the resolver for the result field.
func (r *measurementResolver) Result(ctx context.Context, obj *store.Measurement) (any, error) {
	return rawJSON(obj.Result)
}

// Hops is the resolver for the hops field.
func (r *measurementResolver) Hops(ctx context.Context, obj *store.Measurement) ([]*traceroute.Hop, error) {
	return hopsOf(obj)
}

// Data is the resolver for the data field.
func (r *measurementEventResolver) Data(ctx context.Context, obj *runner.Event) (any, error) {
	return rawJSON(obj.Data)
}

// Hop is the resolver for the hop field.
func (r *measurementEventResolver) Hop(ctx context.Context, obj *runner.Event) (*traceroute.Hop, error) {
	if obj.Type != "hop" {
		return nil, nil
	}
	var h traceroute.Hop
	if err := json.Unmarshal(obj.Data, &h); err != nil {
		return nil, fmt.Errorf("decoding hop event: %w", err)
	}
	return &h, nil
}

// Measurement is the resolver for the measurement field.
func (r *measurementEventResolver) Measurement(ctx context.Context, obj *runner.Event) (*store.Measurement, error) {
	if obj.Type != "result" {
		return nil, nil
	}
	var m store.Measurement
	if err := json.Unmarshal(obj.Data, &m); err != nil {
		return nil, fmt.Errorf("decoding result event: %w", err)
	}
	return &m, nil
}

// CreateMeasurement is the resolver for the createMeasurement field.
func (r *mutationResolver) CreateMeasurement(ctx context.Context, kind string, target string, locations []string, options map[string]any) (*store.Measurement, error) {
	req, err := r.request(ctx, kind, target, locations, options)
	if err != nil {
		return nil, err
	}
	m, err := r.opt.Service.Create(ctx, req)
	if err != nil {
		return nil, r.opt.Callers.ServiceError(err)
	}
	return m, nil
}

// CreateMeasurements is the resolver for the createMeasurements field.
func (r *mutationResolver) CreateMeasurements(ctx context.Context, kind string, target string, locations []string, options map[string]any) ([]*store.Measurement, error) {
	req, err := r.request(ctx, kind, target, locations, options)
	if err != nil {
		return nil, err
	}
	ms, err := r.opt.Service.CreateEach(ctx, req)
	if err != nil && len(ms) == 0 {
		return nil, r.opt.Callers.ServiceError(err)
	}
	return ms, r.opt.Callers.ServiceError(err)
}

// CreateCheck is the resolver for the createCheck field.
func (r *mutationResolver) CreateCheck(ctx context.Context, definition any) (*monitor.CheckView, error) {
	return r.putCheck(ctx, "", definition)
}

// ReplaceCheck is the resolver for the replaceCheck field.
func (r *mutationResolver) ReplaceCheck(ctx context.Context, id string, definition any) (*monitor.CheckView, error) {
	return r.putCheck(ctx, id, definition)
}

// DeleteCheck is the resolver for the deleteCheck field.
func (r *mutationResolver) DeleteCheck(ctx context.Context, id string) (bool, error) {
	ed, err := r.checkEditor()
	if err != nil {
		return false, err
	}
	if err := ed.DeleteCheck(ctx, fromContext(ctx).caller, id); err != nil {
		return false, err
	}
	return true, nil
}

// RunCheck is the resolver for the runCheck field.
func (r *mutationResolver) RunCheck(ctx context.Context, id string) (bool, error) {
	ed, err := r.checkEditor()
	if err != nil {
		return false, err
	}
	return ed.RunCheck(ctx, fromContext(ctx).caller, id)
}

// Measurement is the resolver for the measurement field.
func (r *queryResolver) Measurement(ctx context.Context, id string) (*store.Measurement, error) {
	m, err := r.opt.Service.Get(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return visible(ctx, m), nil
}

// Measurements is the resolver for the measurements field.
func (r *queryResolver) Measurements(ctx context.Context, kind *string, status *string, limit *int, before *time.Time) (*MeasurementPage, error) {
	f, err := r.listFilter(kind, status, limit, before)
	if err != nil {
		return nil, err
	}
	page := &MeasurementPage{Measurements: []*store.Measurement{}}
	f.ClientID = fromContext(ctx).caller.Owner
	if f.ClientID == "" {
		return page, nil // no key and no token: nothing of this caller's is stored
	}
	err = r.opt.Service.Each(ctx, f, func(m *store.Measurement) error {
		cp := *m
		page.Measurements = append(page.Measurements, &cp)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if n := len(page.Measurements); n == f.Limit {
		last := page.Measurements[n-1].CreatedAt
		page.NextBefore = &last
	}
	return page, nil
}

// Kinds is the resolver for the kinds field.
func (r *queryResolver) Kinds(ctx context.Context) ([]*Kind, error) {
	var out []*Kind
	for _, k := range r.opt.Service.Registry().Kinds() {
		info := k.Info()
		out = append(out, &Kind{Name: info.Name, Aliases: nonNil(info.Aliases), Summary: info.Summary, Target: info.Target,
			Class: info.Class, Connects: info.Connects, Events: nonNil(info.Events), Options: pointers(k.Options()),
			OptionsSchema: measure.OptionsSchema(k)})
	}
	return out, nil
}

// Locations is the resolver for the locations field.
func (r *queryResolver) Locations(ctx context.Context) ([]*runner.LocationStatus, error) {
	return pointers(r.opt.Service.Locations()), nil
}

// Resolvers is the resolver for the resolvers field.
func (r *queryResolver) Resolvers(ctx context.Context) ([]*dnsq.Resolver, error) {
	return pointers(r.opt.Resolvers), nil
}

// Geo is the resolver for the geo field.
func (r *queryResolver) Geo(ctx context.Context, addr string) (*geo.Info, error) {
	req := fromContext(ctx)
	if err := r.opt.Callers.Limit(req.w, req.caller, "geo"); err != nil {
		return nil, err
	}
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return nil, &measure.FieldError{Field: "addr", Detail: fmt.Sprintf("%q is not an IPv4 or IPv6 address", addr)}
	}
	db := r.opt.Geo()
	if db == nil {
		return &geo.Info{Addr: a}, nil
	}
	info := db.Lookup(a)
	return &info, nil
}

// Checks is the resolver for the checks field.
func (r *queryResolver) Checks(ctx context.Context, group *string, status *string) ([]*monitor.CheckView, error) {
	m, err := r.monitor()
	if err != nil {
		return nil, err
	}
	out := []*monitor.CheckView{}
	for _, c := range m.Checks() {
		if group != nil && c.Group != *group || status != nil && c.Status != *status {
			continue
		}
		out = append(out, &c)
	}
	return out, nil
}

// Check is the resolver for the check field.
func (r *queryResolver) Check(ctx context.Context, id string) (*monitor.CheckView, error) {
	m, err := r.monitor()
	if err != nil {
		return nil, err
	}
	c, err := m.Check(id)
	if errors.Is(err, monitor.ErrNoCheck) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// MeasurementEvents is the resolver for the measurementEvents field.
func (r *subscriptionResolver) MeasurementEvents(ctx context.Context, id string) (<-chan *runner.Event, error) {
	return r.events(ctx, id)
}

// CheckStateChanges is the resolver for the checkStateChanges field.
func (r *subscriptionResolver) CheckStateChanges(ctx context.Context, id *string) (<-chan *monitor.Event, error) {
	return r.stateChanges(ctx, id)
}

// Check returns CheckResolver implementation.
func (r *Resolver) Check() CheckResolver { return &checkResolver{r} }

// GeoInfo returns GeoInfoResolver implementation.
func (r *Resolver) GeoInfo() GeoInfoResolver { return &geoInfoResolver{r} }

// Hop returns HopResolver implementation.
func (r *Resolver) Hop() HopResolver { return &hopResolver{r} }

// HopAddr returns HopAddrResolver implementation.
func (r *Resolver) HopAddr() HopAddrResolver { return &hopAddrResolver{r} }

// KindOption returns KindOptionResolver implementation.
func (r *Resolver) KindOption() KindOptionResolver { return &kindOptionResolver{r} }

// Location returns LocationResolver implementation.
func (r *Resolver) Location() LocationResolver { return &locationResolver{r} }

// Measurement returns MeasurementResolver implementation.
func (r *Resolver) Measurement() MeasurementResolver { return &measurementResolver{r} }

// MeasurementEvent returns MeasurementEventResolver implementation.
func (r *Resolver) MeasurementEvent() MeasurementEventResolver { return &measurementEventResolver{r} }

// Mutation returns MutationResolver implementation.
func (r *Resolver) Mutation() MutationResolver { return &mutationResolver{r} }

// Query returns QueryResolver implementation.
func (r *Resolver) Query() QueryResolver { return &queryResolver{r} }

// Subscription returns SubscriptionResolver implementation.
func (r *Resolver) Subscription() SubscriptionResolver { return &subscriptionResolver{r} }

type (
	checkResolver            struct{ *Resolver }
	geoInfoResolver          struct{ *Resolver }
	hopResolver              struct{ *Resolver }
	hopAddrResolver          struct{ *Resolver }
	kindOptionResolver       struct{ *Resolver }
	locationResolver         struct{ *Resolver }
	measurementResolver      struct{ *Resolver }
	measurementEventResolver struct{ *Resolver }
	mutationResolver         struct{ *Resolver }
	queryResolver            struct{ *Resolver }
	subscriptionResolver     struct{ *Resolver }
)
