// Package traceroute finds the routers on the path to an address with ICMP
// echo, UDP or TCP SYN probes, over IPv4 and IPv6, with every TTL in flight
// at once. One Tracer runs any number of traces concurrently: a shared
// listener per protocol matches every reply to exactly one probe. Flows are
// Paris-style (the fields ECMP routers hash stay constant), so a trace
// follows one path; Request.Flows explores several. MTR mode repeats the
// trace in rounds and keeps loss and latency statistics per hop.
package traceroute

import (
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// Protocol is the kind of probe packet.
type Protocol string

// Probe protocols.
const (
	ICMP Protocol = "icmp" // ICMP echo request (the default)
	UDP  Protocol = "udp"  // UDP datagram to a (normally closed) port
	TCP  Protocol = "tcp"  // TCP SYN
)

// Default values used when Request fields are zero.
const (
	DefaultMaxHops     = 30
	DefaultQueries     = 3
	DefaultMaxInflight = 32
	DefaultTimeout     = time.Second
	DefaultGap         = 5
	DefaultUDPPort     = 33434
	DefaultTCPPort     = 80
	DefaultInterval    = time.Second
	DefaultDNSTimeout  = 2 * time.Second
	// DefaultMinWait is the floor of the adaptive wait (see Request.MinWait).
	DefaultMinWait = 10 * time.Millisecond
	// AdaptiveMultiple is how many times the RTT seen around a silent hop
	// its probe is waited for once a later hop has answered.
	AdaptiveMultiple = 5
)

// Hop states (Hop.State).
const (
	StateAnswered    = "answered"     // answered every probe, or lost some on the path
	StateRateLimited = "rate_limited" // answered some probes and dropped others while the path beyond forwarded them
	StateSilent      = "silent"       // answered no probe, not even the slow retry
)

// Errors callers branch on.
var (
	// ErrBadRequest is wrapped by every validation error.
	ErrBadRequest = errors.New("bad trace request")
	// ErrPermission is wrapped when no socket kind the trace needs can be
	// opened; the message says what to run.
	ErrPermission = errors.New("not permitted to send probes")
)

// Request describes one trace. The zero value of every field but Target is
// a sensible default.
type Request struct {
	Target   netip.Addr // address to trace (resolve host names first)
	Protocol Protocol   // "" means ICMP
	// Port is the destination port of UDP and TCP probes; 0 means 33434
	// for UDP and 80 for TCP. UDP probes keep it constant (Paris style).
	Port uint16
	// MaxHops is the largest TTL probed, 1-255; 0 means 30.
	MaxHops int
	// Queries is the number of probes per hop and flow, 1-10; 0 means 3
	// (1 in MTR mode).
	Queries int
	// MaxInflight bounds the probes awaiting an answer; 0 means 32.
	MaxInflight int
	// Flows is the number of distinct flows (source ports or ICMP
	// identifiers) probed, 1-64; 0 means 1. Each flow keeps to one ECMP path.
	Flows int
	// Timeout is how long a probe waits for its answer when no later hop
	// has answered; 0 means 1 s.
	Timeout time.Duration
	// MinWait is the floor of the adaptive wait: in a plain trace, once a
	// later hop (or the destination) has answered, a probe still waiting is
	// given up AdaptiveMultiple times the largest RTT seen at its own hop or
	// the nearest later hop that answered, but never sooner than MinWait
	// after it was sent (nor later than Timeout). 0 means 10 ms.
	MinWait time.Duration
	// RetryPause is how long a plain trace waits, after its first round,
	// before probing once more every hop that answered nothing while a
	// later hop answered (a router whose ICMP rate limit was exhausted
	// answers the slow retry). 0 sends the retries at once; a router that
	// limits to one answer a second and was drained by other probes just
	// before needs 1s. NoRetry turns the retry off.
	RetryPause time.Duration
	NoRetry    bool
	// Gap is how many consecutive silent hops past the last answer end a
	// trace whose destination does not answer; 0 means 5.
	Gap int
	// Rounds > 0 selects MTR mode: that many rounds, one probe per hop and
	// flow each (unless Queries says more), Interval apart.
	Rounds int
	// Continuous selects MTR mode until ctx is done.
	Continuous bool
	// Interval is the time between the starts of MTR rounds; 0 means 1 s.
	Interval time.Duration
	// Resolver looks up reverse DNS names of hop addresses; nil means none.
	Resolver ReverseResolver
	// DNSTimeout bounds each reverse lookup; 0 means 2 s.
	DNSTimeout time.Duration
	// OnHop, when set, is called with a copy of a hop each time it changes
	// (a probe answered or timed out, a name resolved), from one goroutine
	// at a time.
	OnHop func(Hop)
}

// Result is a finished trace.
type Result struct {
	Target     netip.Addr `json:"target"`
	Protocol   Protocol   `json:"protocol"`
	Port       uint16     `json:"port,omitempty"`
	Mode       string     `json:"mode"` // "raw" or "unprivileged": the socket kind used
	MaxHops    int        `json:"max_hops"`
	Queries    int        `json:"queries"`
	Flows      int        `json:"flows"`
	Rounds     int        `json:"rounds"`  // rounds run (1 for a plain trace)
	Reached    bool       `json:"reached"` // the destination answered
	Hops       []Hop      `json:"hops"`
	Started    time.Time  `json:"started"`
	DurationMS float64    `json:"duration_ms"`
}

// Hop is everything learned about one TTL.
type Hop struct {
	TTL int `json:"ttl"`
	// Addrs lists every address that answered at this TTL, in order of
	// first answer.
	Addrs []HopAddr `json:"addrs"`
	// Probes holds the probes of the latest round, in sending order.
	Probes []Probe `json:"probes"`
	// Reached is set when the destination answered at this TTL.
	Reached bool `json:"reached,omitempty"`
	// Flag is set when the hop answered "unreachable" (!H, !N, !P, !X ...).
	Flag string `json:"flag,omitempty"`
	// State is "answered", "rate_limited" (answered some probes and dropped
	// others while later hops answered, or answered only the slow retry) or
	// "silent" (answered nothing).
	State string `json:"state"`
	Stats Stats  `json:"stats"`
}

// HopAddr is one address that answered at a hop. The ASN and location
// fields are filled by a separate enrichment step (geo), never here.
type HopAddr struct {
	Addr    netip.Addr `json:"addr"`
	Name    string     `json:"name,omitempty"`  // reverse DNS name
	Flows   []int      `json:"flows,omitempty"` // flows (0-based) that saw it
	ASN     uint32     `json:"asn,omitempty"`
	ASOrg   string     `json:"as_org,omitempty"`
	City    string     `json:"city,omitempty"`
	Country string     `json:"country,omitempty"` // ISO 3166 code
	// Located is set when Lat and Lon are known (a map can place the hop).
	Located bool    `json:"located,omitempty"`
	Lat     float64 `json:"lat,omitempty"`
	Lon     float64 `json:"lon,omitempty"`
	// Special names the special-purpose range (private-use, shared, ...) of
	// an address that is never geolocated; Label an operator override's label.
	Special string `json:"special,omitempty"`
	Label   string `json:"label,omitempty"`
	// Anycast is set for an address in a known anycast prefix (the shipped
	// list or an operator override): one address, many places.
	Anycast bool `json:"anycast,omitempty"`
	// Placement judges the location against the speed of light in fibre:
	// "plausible", "implausible" (farther from the source, or from the
	// previous placed hop, than the minimum RTT allows; Lat and Lon are kept
	// but must not be drawn as a confident place) or "anycast_unplaced" (an
	// anycast address the bound does not pin to one site: Located is false).
	// Empty when the address was not located.
	Placement string `json:"placement,omitempty"`
	// BoundKM is the farthest from the source the hop can be: about 100 km
	// per millisecond of its minimum round-trip time. Omitted without an RTT.
	BoundKM float64 `json:"bound_km,omitempty"`
}

// Placements (HopAddr.Placement).
const (
	PlacementPlausible       = "plausible"
	PlacementImplausible     = "implausible"
	PlacementAnycastUnplaced = "anycast_unplaced"
)

// Probe is one probe sent and what came back.
type Probe struct {
	Flow     int           `json:"flow"`
	Addr     netip.Addr    `json:"addr,omitzero"` // who answered; zero on timeout
	RTT      time.Duration `json:"-"`
	RTTMS    float64       `json:"rtt_ms,omitempty"`
	Timeout  bool          `json:"timeout,omitempty"`
	ICMPType int           `json:"icmp_type,omitempty"` // ICMP type of the answer (0 for TCP answers)
	ICMPCode int           `json:"icmp_code,omitempty"`
	Flag     string        `json:"flag,omitempty"`      // !H !N !P !X ... for unreachables
	TCPFlags string        `json:"tcp_flags,omitempty"` // "SA" or "R" when the destination answered a TCP probe
	ReplyTTL int           `json:"reply_ttl,omitempty"` // TTL (hop limit) of the answer as it arrived
	Retry    bool          `json:"retry,omitempty"`     // the slow retry of a hop that answered nothing at first
	// Paced is set, in MTR mode, on a probe not sent because the hop's
	// router was answered too recently for its observed rate limit.
	Paced bool        `json:"paced,omitempty"`
	MPLS  []MPLSLabel `json:"mpls,omitempty"`
}

// MPLSLabel is one entry of an MPLS label stack quoted in an ICMP extension
// (RFC 4950).
type MPLSLabel struct {
	Label int  `json:"label"`
	TC    int  `json:"tc"`
	S     bool `json:"s"`
	TTL   int  `json:"ttl"`
}

// withDefaults validates r and fills in defaults.
func (r Request) withDefaults() (Request, error) {
	var errs []error
	if !r.Target.IsValid() {
		errs = append(errs, fmt.Errorf("%w: no target address", ErrBadRequest))
	}
	r.Target = r.Target.Unmap()
	switch r.Protocol {
	case "":
		r.Protocol = ICMP
	case ICMP, UDP, TCP:
	default:
		errs = append(errs, fmt.Errorf("%w: protocol %q: want icmp, udp or tcp", ErrBadRequest, r.Protocol))
	}
	if r.Port == 0 && r.Protocol == UDP {
		r.Port = DefaultUDPPort
	}
	if r.Port == 0 && r.Protocol == TCP {
		r.Port = DefaultTCPPort
	}
	mtr := r.Rounds > 0 || r.Continuous
	errs = append(errs,
		rangeCheck("max hops", &r.MaxHops, DefaultMaxHops, 1, 255),
		rangeCheck("probes per hop", &r.Queries, map[bool]int{true: 1, false: DefaultQueries}[mtr], 1, 10),
		rangeCheck("max in flight", &r.MaxInflight, DefaultMaxInflight, 1, 4096),
		rangeCheck("flows", &r.Flows, 1, 1, 64),
		rangeCheck("gap", &r.Gap, DefaultGap, 1, 255),
	)
	if r.Rounds < 0 {
		errs = append(errs, fmt.Errorf("%w: rounds %d: want 0 (a plain trace) or more", ErrBadRequest, r.Rounds))
	}
	if r.Timeout < 0 || r.Interval < 0 || r.DNSTimeout < 0 || r.MinWait < 0 || r.RetryPause < 0 {
		errs = append(errs, fmt.Errorf("%w: negative timeout or interval", ErrBadRequest))
	}
	r.Timeout = orDuration(r.Timeout, DefaultTimeout)
	r.Interval = orDuration(r.Interval, DefaultInterval)
	r.DNSTimeout = orDuration(r.DNSTimeout, DefaultDNSTimeout)
	r.MinWait = min(orDuration(r.MinWait, DefaultMinWait), r.Timeout)
	return r, errors.Join(errs...)
}

func rangeCheck(what string, v *int, def, lo, hi int) error {
	if *v == 0 {
		*v = def
		return nil
	}
	if *v < lo || *v > hi {
		return fmt.Errorf("%w: %s %d: want %d to %d", ErrBadRequest, what, *v, lo, hi)
	}
	return nil
}

func orDuration(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}
