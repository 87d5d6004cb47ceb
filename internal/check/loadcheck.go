package check

import (
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/dnsscience/dnsscience/internal/dnsq"
	"github.com/miekg/dns"
	"go.yaml.in/yaml/v3"
)

func (l *loader) check(n *yaml.Node, d Defaults) (*Check, error) {
	f, err := l.fields(n, "a check", []string{"name", "kind", "target", "options", "conditions"})
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
	c.Name, c.Kind, c.Target = f["name"].Value, strings.ToLower(f["kind"].Value), f["target"].Value
	if c.Kind == "cert" {
		c.Kind = "tls"
	}
	if _, ok := optionKeys[c.Kind]; !ok {
		return nil, l.errAt(f["kind"].Line, "check %q: unknown kind %q; expected one of: %s, cert", c.Name, f["kind"].Value, strings.Join(Kinds, ", "))
	}
	if msg := badTarget(c.Kind, c.Target); msg != "" {
		return nil, l.errAt(f["target"].Line, "check %q: bad target %q: %s", c.Name, c.Target, msg)
	}
	if v := f["options"]; v != nil {
		if err := l.options(c, v); err != nil {
			return nil, err
		}
	}
	if v := f["conditions"]; v != nil {
		if err := l.conditions(c, v); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (l *loader) options(c *Check, v *yaml.Node) error {
	f, err := l.fields(v, fmt.Sprintf("options of %s check %q", c.Kind, c.Name), optionKeys[c.Kind])
	if err != nil {
		return err
	}
	if err := v.Decode(&c.Options); err != nil {
		return l.yamlErr(err)
	}
	o := &c.Options
	if n := f["timeout"]; n != nil {
		if o.timeout, err = l.duration(n, "timeout"); err != nil {
			return err
		}
	}
	if n := f["linger"]; n != nil {
		if o.linger, err = l.duration(n, "linger"); err != nil {
			return err
		}
	}
	if n := f["type"]; n != nil {
		if _, ok := dns.StringToType[strings.ToUpper(o.Type)]; !ok {
			return l.errAt(n.Line, "check %q: unknown record type %q; expected A, AAAA, CNAME, MX, TXT, NS ...", c.Name, o.Type)
		}
	}
	if n := f["resolver"]; n != nil {
		if _, err := dnsq.ParseServer(o.Resolver); err != nil {
			return l.errAt(n.Line, "check %q: %v", c.Name, err)
		}
	}
	if n := f["resolvers"]; n != nil {
		if _, err := l.resolvers(n); err != nil {
			return err
		}
	}
	if n := f["expect_ip"]; n != nil {
		for _, ip := range o.ExpectIP {
			if net.ParseIP(ip) == nil {
				return l.errAt(n.Line, "check %q: expect_ip %q is not an IP address", c.Name, ip)
			}
		}
	}
	return nil
}

func (l *loader) resolvers(v *yaml.Node) ([]string, error) {
	if v.Kind != yaml.SequenceNode {
		return nil, l.errAt(v.Line, "resolvers must be a list such as [127.0.0.1:53, tls://dns.example:853]")
	}
	var out []string
	for _, r := range v.Content {
		if _, err := dnsq.ParseServer(r.Value); err != nil {
			return nil, l.errAt(r.Line, "%v", err)
		}
		out = append(out, r.Value)
	}
	return out, nil
}

func (l *loader) conditions(c *Check, v *yaml.Node) error {
	if v.Kind != yaml.SequenceNode {
		return l.errAt(v.Line, "check %q: conditions must be a list of expressions", c.Name)
	}
	known := knownFor(c.Kind)
	for _, cn := range v.Content {
		if cn.Kind != yaml.ScalarNode {
			return l.errAt(cn.Line, "check %q: a condition must be one expression such as 'status == 200'", c.Name)
		}
		cond, err := ParseCondition(cn.Value, known)
		if err != nil {
			return l.errAt(cn.Line, "check %q: condition %q: %v", c.Name, cn.Value, err)
		}
		c.Conditions = append(c.Conditions, cond)
	}
	return nil
}

// badTarget says what is wrong with a target for a kind, or "".
func badTarget(kind, target string) string {
	switch kind {
	case "dns", "propagation":
		if _, ok := dns.IsDomainName(target); !ok || strings.Contains(target, "/") || strings.Contains(target, ":") {
			return "want a domain name such as api.example.com"
		}
	case "tcp":
		if h, p, err := net.SplitHostPort(target); err != nil || h == "" || p == "" {
			return "want host:port"
		}
	case "tls":
		if strings.Contains(target, "/") {
			return "want host or host:port"
		}
	case "http":
		return badURL(target, "http", "https")
	case "ws":
		return badURL(target, "ws", "wss", "http", "https")
	case "diagnose":
		return badURL(target, "http", "https", "ws", "wss")
	}
	return ""
}

func badURL(target string, schemes ...string) string {
	u, err := url.Parse(target)
	if err != nil || u.Host == "" {
		return "want a URL such as " + schemes[0] + "://host/path"
	}
	for _, s := range schemes {
		if u.Scheme == s {
			return ""
		}
	}
	return "want a URL with scheme " + strings.Join(schemes, ", ")
}
