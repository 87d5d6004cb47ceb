package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/dnsscience/dnsscience/internal/measure"
	"github.com/dnsscience/dnsscience/internal/probe"
)

// runKind prepares a measurement through the registry — the same
// validation, defaults and limits as the API and suites — and runs it in
// menv (nil: the CLI's defaults, every target allowed and the system's
// resolvers). Bad options are usage errors naming the flag (flags maps an
// option to its flag where the names differ).
func runKind(ctx context.Context, kind, target string, opts any, menv *measure.Env, flags map[string]string, emit measure.Emit) (any, error) {
	k, ok := measure.New().Lookup(kind)
	if !ok {
		return nil, fmt.Errorf("no %s kind in the registry", kind)
	}
	if menv == nil {
		menv = &measure.Env{Interactive: true}
	}
	plan, err := k.PrepareWith(ctx, menv, target, opts)
	if err != nil {
		return nil, flagErr(err, target, flags)
	}
	if emit == nil {
		emit = func(string, any) {}
	}
	ctx, cancel := context.WithTimeout(ctx, plan.Timeout)
	defer cancel()
	return plan.Run(ctx, emit)
}

// flagErr turns a registry field error into a usage error: options.max_hops
// reads --max-hops, target reads the argument.
func flagErr(err error, target string, flags map[string]string) error {
	var fe *measure.FieldError
	if !errors.As(err, &fe) {
		return err
	}
	name, _, _ := strings.Cut(strings.TrimPrefix(fe.Field, "options."), "[")
	switch {
	case fe.Field == "target":
		return usageErr("bad target %q: %s", target, fe.Detail)
	case flags[name] != "":
		name = flags[name]
	default:
		name = "--" + strings.ReplaceAll(name, "_", "-")
	}
	return usageErr("bad %s: %s", name, fe.Detail)
}

// base is the probe flags as the registry's probe options.
func (f *probeFlags) base() (measure.ProbeOptions, error) {
	o := measure.ProbeOptions{Timeout: measure.Duration(f.timeout), ConnectTo: f.connectTo}
	switch {
	case f.timeout <= 0:
		return o, usageErr("bad --timeout %s: want a positive duration such as 5s", f.timeout)
	case f.ipv4 && f.ipv6:
		return o, usageErr("-4 and -6 exclude each other")
	case f.ipv4:
		o.IPVersion = 4
	case f.ipv6:
		o.IPVersion = 6
	}
	return o, nil
}

// trust is --ca (read from its file) and --insecure as registry options.
func (f *probeFlags) trust() (measure.TrustOptions, error) {
	t := measure.TrustOptions{Insecure: f.insecure}
	if f.ca != "" {
		// Read once; the registry checks it holds certificates (options.ca,
		// reported as --ca).
		pem, err := os.ReadFile(f.ca)
		if err != nil {
			return t, usageErr("bad --ca: %v", err)
		}
		t.CA = string(pem)
	}
	return t, nil
}

// runProbe runs a probe kind and renders its result.
func runProbe(ctx context.Context, e *env, kind, target string, opts any, details func(io.Writer, *probe.Result)) error {
	res, err := runKind(ctx, kind, target, opts, nil, nil, nil)
	if err != nil {
		return finishProbe(e, nil, err, details)
	}
	return finishProbe(e, res.(*probe.Result), nil, details)
}
