package cli

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"
	"github.com/spf13/cobra"

	"github.com/dnsscience/dnsscience/internal/dnsq"
	"github.com/dnsscience/dnsscience/internal/probe"
)

// digOptions holds the dig command's flags.
type digOptions struct {
	qtype, qclass, qname, reverse string
	port                          int
	short, tcp, ignoreTC          bool
	dnssec, nsid, cookie          bool
	noEDNS, noRecurse, cd, ad     bool
	bufsize                       uint16
	subnet                        string
	tsigKey, tsigFile             string
	ipv4, ipv6                    bool
	source                        string
	timeout                       time.Duration
	tries                         int
	dohGet, insecure              bool
	caFile                        string
	resolversFile                 string
	trace, allServers             bool
	roots                         string
	file, output                  string
	concurrency, threads          int
	rate                          float64
}

func newDigCmd(e *env) *cobra.Command {
	o := &digOptions{}
	cmd := &cobra.Command{
		Use:   "dig [@server] name [type...] [class] [+option...]",
		Short: "Query DNS like dig, over UDP, TCP, DoT or DoH",
		Long: `Query DNS servers and print the reply in dig's layout.

Server syntax: @host[:port] (UDP, TCP retry on truncation), @tcp://host[:port],
@tls://host[:port] (DoT), @https://host/path (DoH), or a shipped resolver by
name (@cloudflare, @tls://quad9, @https://google; see 'dnsscience resolvers').
Without @server the first nameserver of /etc/resolv.conf is asked.

dig's +options are accepted too: +short +trace +tcp +dnssec +nsid +cookie
+norecurse +noedns +cdflag +adflag +bufsize=N +subnet=CIDR +tries=N +time=N
+ednsopt=CODE[:HEX] +tls-hostname=NAME +tls-ca=FILE, and the display options
+[no]all +[no]cmd +[no]comments +[no]question +[no]answer +[no]authority
+[no]additional +[no]stats +qr +ttlunits +multi +yaml. AXFR and IXFR=SERIAL
transfer zones over TCP; -y/-k sign with TSIG.`,
		Example: `  dnsscience dig example.com
  dnsscience dig @1.1.1.1 example.com MX --short
  dnsscience dig @tls://quad9 example.com AAAA --dnssec
  dnsscience dig @https://cloudflare-dns.com/dns-query example.com TXT --json
  dnsscience dig -x 192.0.2.1
  dnsscience dig @127.0.0.1:5353 hostname.bind TXT CH
  dnsscience dig --trace example.com --all-servers
  dnsscience dig -f names.txt A @127.0.0.1 --concurrency 200 -o answers.jsonl`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDig(cmd.Context(), e, o, args)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.qtype, "type", "t", "", "query type (A, AAAA, MX, TYPE65 ...)")
	f.StringVarP(&o.qclass, "class", "c", "", "query class: IN (default), CH, HS")
	f.StringVarP(&o.qname, "query", "q", "", "query name (for names that look like types)")
	f.StringVarP(&o.reverse, "reverse", "x", "", "reverse lookup: PTR for this IPv4 or IPv6 address")
	f.IntVarP(&o.port, "port", "p", 0, "server port (default 53, 853 for DoT)")
	f.BoolVar(&o.short, "short", false, "print only the answer data, as dig +short")
	f.BoolVar(&o.tcp, "tcp", false, "query over TCP")
	f.BoolVar(&o.ignoreTC, "ignore", false, "keep truncated UDP answers; do not retry over TCP")
	f.BoolVar(&o.dnssec, "dnssec", false, "set the DO bit (ask for DNSSEC records)")
	f.BoolVar(&o.nsid, "nsid", false, "ask for the server's NSID")
	f.BoolVar(&o.cookie, "cookie", false, "send a DNS cookie")
	f.BoolVar(&o.noEDNS, "no-edns", false, "send no EDNS0 OPT record")
	f.BoolVar(&o.noRecurse, "norecurse", false, "clear the RD flag")
	f.BoolVar(&o.cd, "cd", false, "set the CD (checking disabled) flag")
	f.BoolVar(&o.ad, "ad", false, "set the AD flag")
	f.Uint16Var(&o.bufsize, "bufsize", 0, "EDNS0 UDP buffer size (default 1232)")
	f.StringVar(&o.subnet, "subnet", "", "EDNS client subnet, e.g. 203.0.113.0/24")
	f.BoolVarP(&o.ipv4, "ipv4", "4", false, "use IPv4 only")
	f.BoolVarP(&o.ipv6, "ipv6", "6", false, "use IPv6 only")
	f.StringVarP(&o.source, "source", "b", "", "send from this local address: ADDR or ADDR#PORT, as dig -b")
	f.StringVarP(&o.tsigKey, "tsig", "y", "", "sign queries and transfers with TSIG: [hmac-sha256:]name:base64-secret (algorithm default hmac-md5, as dig)")
	f.StringVarP(&o.tsigFile, "keyfile", "k", "", "sign with the TSIG key in this BIND key file (tsig-keygen format)")
	f.DurationVar(&o.timeout, "timeout", 5*time.Second, "timeout per try")
	f.IntVar(&o.tries, "tries", 3, "tries per query over UDP")
	f.BoolVar(&o.dohGet, "doh-get", false, "send DoH queries with GET instead of POST")
	f.StringVar(&o.caFile, "ca", "", "PEM file of CAs to trust for DoT/DoH (default: system roots)")
	f.BoolVar(&o.insecure, "insecure", false, "do not verify DoT/DoH certificates")
	f.StringVar(&o.resolversFile, "resolvers", "", "YAML resolver list whose names may follow @")
	f.BoolVar(&o.trace, "trace", false, "resolve iteratively from the root, printing each step")
	f.BoolVar(&o.allServers, "all-servers", false, "with --trace: ask every name server at every level and report disagreements")
	f.StringVar(&o.roots, "roots", "", "with --trace: root servers to start from (comma-separated host[:port], or a hints file)")
	f.StringVarP(&o.file, "file", "f", "", "bulk mode: read names from FILE (- for stdin), one per line; JSON Lines out")
	f.StringVarP(&o.output, "output", "o", "", "bulk mode: write JSON Lines to this file instead of stdout")
	f.IntVar(&o.concurrency, "concurrency", 100, "bulk mode: queries in flight")
	f.IntVar(&o.threads, "threads", 1, "bulk mode: CPUs used at once (1, as dnsperf's default, costs least per query; more for many servers far away)")
	f.Float64Var(&o.rate, "rate", 0, "bulk mode: queries per second (0: unlimited)")
	return cmd
}

// digPlan is a parsed, validated dig command line.
type digPlan struct {
	args    digArgs
	server  dnsq.Server
	client  *dnsq.Client
	queries []dnsq.Query
}

func runDig(ctx context.Context, e *env, o *digOptions, raw []string) error {
	plan, err := planDig(o, raw)
	if err != nil {
		return err
	}
	if o.file != "" {
		return runBulk(ctx, e, bulkRequest{
			File: o.file, Type: firstType(plan), Servers: []dnsq.Server{plan.server}, Client: plan.client,
			Query: plan.queries[0], Concurrency: o.concurrency, Rate: o.rate, Output: o.output, Threads: o.threads,
		})
	}
	if plan.args.trace {
		return runDigTrace(ctx, e, o, plan)
	}
	return runQueries(ctx, e, plan)
}

func firstType(p *digPlan) uint16 {
	if len(p.queries) == 0 {
		return dns.TypeA
	}
	return p.queries[0].Type
}

// planDig turns flags and positional arguments into queries, a server and a
// client; every error is a usage error.
func planDig(o *digOptions, raw []string) (*digPlan, error) {
	a, err := parseDigArgs(raw)
	if err != nil {
		return nil, usageErr("%v", err)
	}
	a.short = a.short || o.short
	a.trace = a.trace || o.trace
	if err := o.applyFlags(&a); err != nil {
		return nil, usageErr("%v", err)
	}
	p := &digPlan{args: a}
	lists, err := o.resolverLists()
	if err != nil {
		return nil, usageErr("%v", err)
	}
	if p.server, err = o.server(a, lists); err != nil {
		return nil, err
	}
	if p.client, err = o.client(a); err != nil {
		return nil, usageErr("%v", err)
	}
	if err := checkFamily(p.server, p.client); err != nil {
		return nil, usageErr("%v", err)
	}
	if o.file != "" {
		if len(a.questions) > 0 {
			return nil, usageErr("-f reads names from a file; do not give names on the command line too (%s)", a.questions[0].name)
		}
		q := a.query
		q.Type, q.Class = dns.TypeA, a.class
		if len(a.types) > 0 {
			q.Type = a.types[0]
		}
		p.queries = []dnsq.Query{q}
		p.args = a
		return p, nil
	}
	if len(a.questions) == 0 && (len(a.types) > 0 || !a.trace) {
		types := a.types
		if len(types) == 0 {
			types = []uint16{dns.TypeNS}
		}
		a.questions = []digQuestion{{name: ".", types: types}}
	}
	for _, q := range a.questions {
		types := q.types
		if len(types) == 0 {
			types = []uint16{dns.TypeA}
		}
		for _, t := range types {
			query := a.query
			query.Name, query.Type, query.Class = q.name, t, a.class
			p.queries = append(p.queries, query)
		}
	}
	p.args = a
	return p, nil
}

// applyFlags folds the long flags into the parsed arguments.
func (o *digOptions) applyFlags(a *digArgs) error {
	q := &a.query
	q.DO = q.DO || o.dnssec
	q.NSID = q.NSID || o.nsid
	q.Cookie = q.Cookie || o.cookie
	q.NoEDNS = q.NoEDNS || o.noEDNS
	q.NoRecurse = q.NoRecurse || o.noRecurse
	q.CD = q.CD || o.cd
	q.AD = q.AD || o.ad
	a.tcp = a.tcp || o.tcp
	a.tcpSet = a.tcpSet || o.tcp
	a.ignoreTC = a.ignoreTC || o.ignoreTC
	if o.bufsize != 0 {
		q.UDPSize = o.bufsize
	}
	if o.subnet != "" {
		p, err := dnsq.ParseClientSubnet(o.subnet)
		if err != nil {
			return err
		}
		q.ClientSubnet = p
	}
	if o.qclass != "" {
		c, ok := dnsq.ParseClass(o.qclass)
		if !ok {
			return fmt.Errorf("unknown class %q; want IN, CH, HS or CLASSnnn", o.qclass)
		}
		a.class = c
	}
	var t uint16
	if o.qtype != "" {
		var ok bool
		if t, ok = dnsq.ParseType(o.qtype); !ok {
			return fmt.Errorf("unknown type %q; want a type name such as A, AAAA, MX, HTTPS or TYPEnnn", o.qtype)
		}
	}
	if o.reverse != "" {
		name, err := dnsq.ReverseName(o.reverse)
		if err != nil {
			return err
		}
		if t == 0 {
			t = dns.TypePTR
		}
		a.questions = append([]digQuestion{{name: name}}, a.questions...)
	}
	if o.qname != "" {
		name, err := dnsq.NormalizeName(o.qname)
		if err != nil {
			return err
		}
		a.questions = append([]digQuestion{{name: name}}, a.questions...)
	}
	if t != 0 {
		if len(a.questions) == 0 {
			a.types = append([]uint16{t}, a.types...)
		} else {
			a.questions[0].types = append([]uint16{t}, a.questions[0].types...)
		}
	}
	if o.tries < 1 || o.tries > 10 {
		return fmt.Errorf("--tries %d: want 1 to 10", o.tries)
	}
	if a.tries == 0 {
		a.tries = o.tries
	}
	if o.timeout <= 0 {
		return fmt.Errorf("--timeout %s: want a positive duration such as 2s", o.timeout)
	}
	if a.timeout == 0 {
		a.timeout = o.timeout
	}
	if o.port < 0 || o.port > 65535 {
		return fmt.Errorf("--port %d: want 1 to 65535", o.port)
	}
	return nil
}

func (o *digOptions) resolverLists() ([][]dnsq.Resolver, error) {
	lists := [][]dnsq.Resolver{}
	if o.resolversFile != "" {
		rs, err := dnsq.LoadResolvers(o.resolversFile)
		if err != nil {
			return nil, err
		}
		lists = append(lists, rs)
	}
	return append(lists, dnsq.ShippedResolvers()), nil
}

// server picks the server: @server, else the system's first nameserver.
func (o *digOptions) server(a digArgs, lists [][]dnsq.Resolver) (dnsq.Server, error) {
	var srv dnsq.Server
	if a.server != "" {
		s, err := dnsq.ResolveServer(a.server, lists...)
		if err != nil {
			return srv, usageErr("%v", err)
		}
		srv = s
	} else if !a.trace {
		sys, err := dnsq.SystemServers("")
		if err != nil {
			return srv, &exitError{code: ExitInternal, err: fmt.Errorf("no @server given and %w", err)}
		}
		srv = sys[0]
	}
	if a.tcp && srv.Transport == dnsq.UDP {
		srv.Transport = dnsq.TCP
	}
	if o.port != 0 && srv.Transport != dnsq.HTTPS && srv.Addr != "" {
		host, _, _ := net.SplitHostPort(srv.Addr)
		srv.Addr = net.JoinHostPort(host, fmt.Sprint(o.port))
	}
	return srv, nil
}

func (o *digOptions) client(a digArgs) (*dnsq.Client, error) {
	c := &dnsq.Client{Timeout: a.timeout, Tries: a.tries, NoTCPFallback: a.ignoreTC, DoHGet: o.dohGet}
	if err := o.tsig(c); err != nil {
		return nil, err
	}
	if err := o.family(c); err != nil {
		return nil, err
	}
	caFile := o.caFile
	if a.tlsCA != "" {
		caFile = a.tlsCA
	}
	if caFile != "" || o.insecure || a.tlsHostname != "" {
		cfg := &tls.Config{InsecureSkipVerify: o.insecure, ServerName: a.tlsHostname} //nolint:gosec // the user asked for it
		if caFile != "" {
			pool, err := probe.LoadCAFile(caFile)
			if err != nil {
				return nil, fmt.Errorf("bad --ca or +tls-ca: %w", err)
			}
			cfg.RootCAs = pool
		}
		c.TLSConfig = cfg
	}
	return c, nil
}

// family applies -4, -6 and -b to c.
func (o *digOptions) family(c *dnsq.Client) error {
	switch {
	case o.ipv4 && o.ipv6:
		return fmt.Errorf("-4 and -6 exclude each other")
	case o.ipv4:
		c.Family = "4"
	case o.ipv6:
		c.Family = "6"
	}
	if o.source == "" {
		return nil
	}
	host, port, _ := strings.Cut(o.source, "#")
	a, err := netip.ParseAddr(host)
	n, perr := strconv.ParseUint(port, 10, 16)
	if err != nil || (port != "" && perr != nil) {
		return fmt.Errorf("-b %s: want a local address, optionally with #port (192.0.2.1#5300)", o.source)
	}
	if (c.Family == "4" && !a.Is4()) || (c.Family == "6" && a.Is4()) {
		return fmt.Errorf("-b %s is not an IPv%s address", o.source, c.Family)
	}
	c.Source = netip.AddrPortFrom(a, uint16(n))
	return nil
}

// checkFamily refuses a server address of the family -4 or -6 excludes.
func checkFamily(srv dnsq.Server, c *dnsq.Client) error {
	host, _, err := net.SplitHostPort(srv.Addr)
	if err != nil {
		return nil
	}
	a, err := netip.ParseAddr(host)
	if err != nil || c.Family == "" {
		return nil
	}
	if (c.Family == "4") != a.Unmap().Is4() {
		return fmt.Errorf("-%s given, but server %s is not an IPv%s address", c.Family, host, c.Family)
	}
	return nil
}

// tsig loads the key of -y or -k into c.
func (o *digOptions) tsig(c *dnsq.Client) error {
	var k dnsq.TSIGKey
	var err error
	switch {
	case o.tsigKey != "" && o.tsigFile != "":
		return fmt.Errorf("give one TSIG key: -y or -k, not both")
	case o.tsigKey != "":
		k, err = dnsq.ParseTSIGKey(o.tsigKey)
	case o.tsigFile != "":
		k, err = dnsq.LoadTSIGKeyFile(o.tsigFile)
	default:
		return nil
	}
	if err != nil {
		return err
	}
	c.TSIG = &k
	return nil
}

// runQueries sends each query in turn and prints each reply.
func runQueries(ctx context.Context, e *env, p *digPlan) error {
	var replies []dnsq.Reply
	failed, transfers := false, 0
	for i, q := range p.queries {
		if isTransfer(q.Type) {
			transfers++
			if err := runTransfer(ctx, e, p, q); err != nil {
				if err != errSilentFail {
					return err
				}
				failed = true
			}
			continue
		}
		resp, err := p.client.Exchange(ctx, p.queryServer(q), q)
		if err != nil {
			failed = true
			if e.json {
				replies = append(replies, errorReply(p.server, q, err))
				continue
			}
			if p.args.short {
				fmt.Fprintf(e.stdout, ";; %v\n", err)
			} else {
				fmt.Fprintf(e.stdout, ";; communications error: %v\n;; no servers could be reached\n", err)
			}
			continue
		}
		switch {
		case e.json:
			replies = append(replies, dnsq.NewReply(resp))
		case p.args.short:
			renderShort(e.stdout, resp)
		case p.args.display.yaml:
			renderYAML(e.stdout, resp, p.args.display.qr)
		default:
			d := p.args.display
			if resp.Truncated && d.comments {
				fmt.Fprintln(e.stdout, ";; Truncated, retrying in TCP mode.")
			}
			if i == 0 && d.cmd {
				renderBanner(e.stdout, p)
			} else if i > 0 && d.cmd {
				fmt.Fprintln(e.stdout)
			}
			renderDig(e.stdout, resp, d)
		}
	}
	// A transfer prints its own JSON object; the array holds the queries.
	if e.json && (len(replies) > 0 || transfers == 0) {
		if err := writeJSON(e.stdout, replies); err != nil {
			return err
		}
	}
	if failed {
		return errSilentFail
	}
	return nil
}

// queryServer is the server for q: over TCP for type ANY unless +notcp was
// given, as dig does (a UDP ANY answer is usually truncated or minimal).
func (p *digPlan) queryServer(q dnsq.Query) dnsq.Server {
	srv := p.server
	if q.Type == dns.TypeANY && srv.Transport == dnsq.UDP && !p.args.tcpSet {
		srv.Transport = dnsq.TCP
	}
	return srv
}

// digEcho is the command line dig echoes in its first line.
func digEcho(p *digPlan) []string {
	out := []string{"@" + p.server.String()}
	for _, q := range p.queries {
		out = append(out, strings.TrimSuffix(q.Name, ".")+" "+dnsq.TypeString(q.Type))
		break
	}
	if len(p.queries) > 1 {
		out = append(out, fmt.Sprintf("(+%d more)", len(p.queries)-1))
	}
	return out
}

func errorReply(srv dnsq.Server, q dnsq.Query, err error) dnsq.Reply {
	class := q.Class
	if class == 0 {
		class = dns.ClassINET
	}
	return dnsq.Reply{
		Server: srv.Addr, ServerName: srv.Name, Transport: srv.Transport, When: time.Now().UTC(),
		Question: []dnsq.Question{{Name: q.Name, Type: dnsq.TypeString(q.Type), Class: dnsq.ClassString(class)}},
		Error:    err.Error(),
	}
}
