package check

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/dnsscience/dnsscience/internal/measure"
)

func (l *loader) check(n *yaml.Node, d Defaults) (*Check, error) {
	f, err := l.fields(n, "a check", slices.Concat(CheckKeys(), alertKeys))
	if err != nil {
		return nil, err
	}
	c := &Check{File: l.file, Line: n.Line}
	for _, key := range []string{"name", "kind", "target"} {
		v := f[key]
		if v == nil || v.Kind != yaml.ScalarNode || strings.TrimSpace(v.Value) == "" {
			return nil, l.errAt(n.Line, "check needs a %s", key)
		}
	}
	c.Name, c.Target = f["name"].Value, f["target"].Value
	k, ok := l.reg.Lookup(f["kind"].Value)
	if !ok {
		return nil, l.errAt(f["kind"].Line, "check %q: unknown kind %q; expected one of: %s", c.Name, f["kind"].Value, strings.Join(l.reg.Names(), ", "))
	}
	c.kind, c.Kind = k, k.Info().Name
	if err := l.options(c, f["options"], d); err != nil {
		return nil, err
	}
	// Validate target and options as the API would (the run binds them
	// again to the runner's environment).
	if _, err := k.Prepare(context.Background(), &measure.Env{}, c.Target, c.Options); err != nil {
		return nil, l.fieldErr(c, f, err)
	}
	if v := f["conditions"]; v != nil {
		if c.Conditions, err = l.condList(c, v, "conditions", "condition"); err != nil {
			return nil, err
		}
	}
	if c.Watch, err = l.watch(f, d.Watch, c); err != nil {
		return nil, err
	}
	c.Watch.finish()
	own, err := l.alertSettings(f)
	if err != nil {
		return nil, err
	}
	c.Alerts = own.over(l.groupAlerts[c.Watch.Group]).over(l.defAlerts).resolve()
	return c, nil
}

// fieldErr places a registry error on the line of the field it names.
func (l *loader) fieldErr(c *Check, f map[string]*yaml.Node, err error) error {
	var fe *measure.FieldError
	if !errors.As(err, &fe) {
		return l.errAt(c.Line, "check %q: %v", c.Name, err)
	}
	line := c.Line
	if fe.Field == "target" {
		line = f["target"].Line
		return l.errAt(line, "check %q: bad target %q: %s", c.Name, c.Target, fe.Detail)
	}
	if o := f["options"]; o != nil {
		line = o.Line
		name, _, _ := strings.Cut(strings.TrimPrefix(fe.Field, "options."), "[")
		for i := 0; i+1 < len(o.Content); i += 2 {
			if o.Content[i].Value == name {
				line = o.Content[i].Line
			}
		}
	}
	return l.errAt(line, "check %q: %s: %s", c.Name, fe.Field, fe.Detail)
}

// options turns a check's options into the kind's JSON options: the
// suite's defaults fill what the check does not set, a ca file is read.
func (l *loader) options(c *Check, v *yaml.Node, d Defaults) error {
	opts := map[string]any{}
	if v != nil {
		if v.Kind != yaml.MappingNode {
			return l.errAt(v.Line, "options of %s check %q must be a mapping", c.Kind, c.Name)
		}
		if _, err := l.fields(v, fmt.Sprintf("options of %s check %q", c.Kind, c.Name), optionNames(c.kind)); err != nil {
			return err
		}
		if err := v.Decode(&opts); err != nil {
			return l.yamlErr(err)
		}
	}
	applyDefaults(c.kind, opts, d)
	if ca, ok := opts["ca"].(string); ok && ca != "" && !strings.HasPrefix(strings.TrimSpace(ca), "-----BEGIN") {
		pem, err := os.ReadFile(ca)
		if err != nil {
			line := c.Line
			if v != nil {
				line = v.Line
			}
			return l.errAt(line, "check %q: reading the ca file: %v", c.Name, err)
		}
		opts["ca"] = string(pem)
		if !slices.Contains(l.files, ca) {
			l.files = append(l.files, ca)
		}
	}
	raw, err := json.Marshal(opts)
	if err != nil {
		return l.errAt(c.Line, "check %q: options: %v", c.Name, err)
	}
	c.Options = raw
	return nil
}

func optionNames(k measure.Kind) []string {
	var out []string
	for _, f := range k.Options() {
		out = append(out, f.Name)
	}
	return out
}

// applyDefaults fills a check's options from the suite's defaults, for the
// options its kind has: timeout (up to the kind's most), resolvers (the
// first as a dns check's server) and ca.
func applyDefaults(k measure.Kind, opts map[string]any, d Defaults) {
	set := func(name string, v any) {
		if _, given := opts[name]; !given {
			opts[name] = v
		}
	}
	for _, f := range k.Options() {
		switch {
		case f.Name == "timeout" && d.Timeout > 0:
			t := d.Timeout
			if most, err := time.ParseDuration(f.Max); err == nil && t > most {
				t = most
			}
			set("timeout", t.String())
		case f.Name == "resolvers" && len(d.Resolvers) > 0:
			set("resolvers", d.Resolvers)
		case f.Name == "server" && len(d.Resolvers) > 0 && opts["resolver"] == nil:
			set("server", d.Resolvers[0])
		case f.Name == "ca" && d.CA != "":
			set("ca", d.CA)
		}
	}
}

func (l *loader) resolvers(v *yaml.Node) ([]string, error) {
	if v.Kind != yaml.SequenceNode {
		return nil, l.errAt(v.Line, "resolvers must be a list such as [127.0.0.1:53, tls://dns.example:853]")
	}
	var out []string
	env := &measure.Env{}
	for _, r := range v.Content {
		if err := env.ValidResolver(r.Value); err != nil {
			return nil, l.errAt(r.Line, "%v", err)
		}
		out = append(out, r.Value)
	}
	return out, nil
}
