//go:build linux

// Package testnet builds routed topologies of Linux network namespaces for
// tests: nodes joined by veth links, IPv4 (10.x) and IPv6 (2001:db8::/32)
// addresses, routes computed along shortest paths (equal-cost paths become
// ECMP routes with an L4 hash), routers that send no ICMP errors and hosts
// that drop everything. Code runs inside a namespace on a locked OS thread
// (Node.Do) or as an external command (Node.Command). Every namespace is
// deleted in t.Cleanup, on every exit path.
package testnet

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// Topology describes a network. Node names must be unique and short
// (letters and digits); links name the two nodes they join.
type Topology struct {
	Nodes []NodeSpec
	Links []LinkSpec
}

// NodeSpec describes one namespace.
type NodeSpec struct {
	Name string
	// Silent makes the node send no locally generated packets at all: as a
	// router it forwards traffic but sends no ICMP time-exceeded or
	// unreachable messages. It is done with a policy rule that blackholes
	// every packet the node originates (`ip rule add iif lo blackhole`).
	Silent bool
	// DropAll makes the node drop every packet addressed to it or passing
	// through it, and send nothing: a destination behind a firewall.
	DropAll bool
	// ICMPLimit rate-limits the ICMP time-exceeded messages the node sends
	// (IPv4 and IPv6, one token bucket each) with an nftables limit in its
	// output hook: "1/second burst 1 packets" answers one probe, then one a
	// second. The text is an nftables rate (`limit rate over TEXT drop`);
	// note that nftables gives a bare "1/second" a burst of 5 packets.
	// Needs the nft command (Debian package nftables).
	ICMPLimit string
	// Extra are additional addresses (host addresses, no prefix length) put on
	// the node's loopback and routed to it by every other node; useful for
	// many destinations behind one node.
	Extra []netip.Addr
}

// LinkSpec describes a veth link. A gets host address 1 and B host
// address 2 of each subnet. Net4 must be a 10.0.0.0/8 subnet and Net6 a
// 2001:db8::/32 subnet; either may be left invalid (zero) to omit it.
type LinkSpec struct {
	A, B string
	Net4 netip.Prefix
	Net6 netip.Prefix
}

// Network is a built topology.
type Network struct {
	prefix string
	nodes  map[string]*Node
	links  []LinkSpec
}

// Node is one namespace of a built network.
type Node struct {
	Name string // the node's name in the topology
	NS   string // the namespace name (as `ip netns` lists it)
	// Addrs4 and Addrs6 hold the node's interface addresses in link order,
	// then its Extra addresses.
	Addrs4 []netip.Addr
	Addrs6 []netip.Addr
	spec   NodeSpec
}

// ErrNotRoot is returned when the process cannot create namespaces.
var ErrNotRoot = errors.New("network namespaces need root (CAP_SYS_ADMIN and CAP_NET_ADMIN)")

// Available reports why namespaces cannot be built here, or nil.
func Available() error {
	if os.Geteuid() != 0 {
		return ErrNotRoot
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return fmt.Errorf("the ip command (Debian package iproute2) is missing: %w", err)
	}
	return nil
}

// haveNft reports whether the nft command is installed.
func haveNft() bool {
	_, err := exec.LookPath("nft")
	return err == nil
}

// SkipWithoutNft skips t when ICMP limits (NodeSpec.ICMPLimit) cannot be
// set up.
func SkipWithoutNft(t testing.TB) {
	t.Helper()
	if !haveNft() {
		t.Skip("skipping: the nft command (Debian package nftables, deps/apt/trace.list) is missing; it rate-limits ICMP in the test routers")
	}
}

// Skip skips t with a message saying why when namespaces cannot be built.
func Skip(t testing.TB) {
	t.Helper()
	if err := Available(); err != nil {
		t.Skipf("skipping: %v; run the tests as root (CI does)", err)
	}
}

// Build creates the topology, skipping t when not root, failing it on any
// error, and deleting every namespace when t ends.
func Build(t testing.TB, topo Topology) *Network {
	t.Helper()
	Skip(t)
	n, err := New(topo)
	if n != nil {
		t.Cleanup(n.Close)
	}
	if err != nil {
		t.Fatalf("building test network: %v", err)
	}
	return n
}

// New creates the topology. The caller must Close the network, also when
// New returns an error together with a non-nil network.
func New(topo Topology) (*Network, error) {
	if err := Available(); err != nil {
		return nil, err
	}
	if err := validate(topo); err != nil {
		return nil, err
	}
	sweep()
	n := &Network{prefix: uniquePrefix(), nodes: map[string]*Node{}, links: topo.Links}
	for _, s := range topo.Nodes {
		node := &Node{Name: s.Name, NS: n.prefix + s.Name, spec: s}
		n.nodes[s.Name] = node
		if err := node.create(); err != nil {
			return n, err
		}
	}
	if err := n.wire(); err != nil {
		return n, err
	}
	for _, s := range topo.Nodes {
		if err := n.route(n.nodes[s.Name]); err != nil {
			return n, err
		}
	}
	for _, s := range topo.Nodes {
		if err := n.nodes[s.Name].filter(); err != nil {
			return n, err
		}
	}
	return n, nil
}

// Node returns the named node; it panics on a name not in the topology,
// which is a bug in the test.
func (n *Network) Node(name string) *Node {
	node, ok := n.nodes[name]
	if !ok {
		panic(fmt.Sprintf("testnet: no node %q", name))
	}
	return node
}

// Namespaces lists the namespace names of the network.
func (n *Network) Namespaces() []string {
	var out []string
	for _, node := range n.nodes {
		out = append(out, node.NS)
	}
	return out
}

// Prefix is the unique prefix of this network's namespace names.
func (n *Network) Prefix() string { return n.prefix }

// Close deletes every namespace of the network (and so every link). It is
// safe to call more than once.
func (n *Network) Close() {
	for _, node := range n.nodes {
		if _, err := os.Stat("/run/netns/" + node.NS); err == nil {
			_ = exec.Command("ip", "netns", "delete", node.NS).Run()
		}
	}
}

// uniquePrefix names a network's namespaces "dstn<pid>x<random>-<node>",
// so parallel tests never clash and sweep can find namespaces left behind
// by a test process that died (a test binary killed on timeout runs no
// cleanup).
func uniquePrefix() string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return fmt.Sprintf("dstn%dx%s-", os.Getpid(), hex.EncodeToString(b))
}

// sweep deletes namespaces built by test processes that no longer run.
func sweep() {
	entries, _ := os.ReadDir("/run/netns")
	for _, e := range entries {
		name := e.Name()
		rest, ok := strings.CutPrefix(name, "dstn")
		if !ok {
			continue
		}
		pidStr, _, ok := strings.Cut(rest, "x")
		pid, err := strconv.Atoi(pidStr)
		if !ok || err != nil || pid <= 0 {
			continue
		}
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); os.IsNotExist(err) {
			_ = exec.Command("ip", "netns", "delete", name).Run()
		}
	}
}

func validate(topo Topology) error {
	names := map[string]bool{}
	var errs []error
	for _, s := range topo.Nodes {
		if s.Name == "" || len(s.Name) > 20 || strings.ContainsAny(s.Name, "/ \t") {
			errs = append(errs, fmt.Errorf("node name %q: want 1-20 letters or digits", s.Name))
		}
		if names[s.Name] {
			errs = append(errs, fmt.Errorf("node %q defined twice", s.Name))
		}
		names[s.Name] = true
		for _, a := range s.Extra {
			errs = append(errs, checkAddr(a))
		}
		if strings.ContainsAny(s.ICMPLimit, "{};#\n") {
			errs = append(errs, fmt.Errorf("node %q: ICMP limit %q: want an nftables rate such as \"1/second burst 1 packets\"", s.Name, s.ICMPLimit))
		}
		if s.ICMPLimit != "" && !haveNft() {
			errs = append(errs, fmt.Errorf("node %q: ICMP limits need the nft command (Debian package nftables)", s.Name))
		}
	}
	ten := netip.MustParsePrefix("10.0.0.0/8")
	doc := netip.MustParsePrefix("2001:db8::/32")
	for i, l := range topo.Links {
		if !names[l.A] || !names[l.B] || l.A == l.B {
			errs = append(errs, fmt.Errorf("link %d: %q-%q must join two different defined nodes", i, l.A, l.B))
		}
		if l.Net4.IsValid() && (!ten.Contains(l.Net4.Addr()) || l.Net4.Bits() < 8 || l.Net4.Bits() > 30) {
			errs = append(errs, fmt.Errorf("link %d: IPv4 subnet %s must be inside 10.0.0.0/8, /8 to /30", i, l.Net4))
		}
		if l.Net6.IsValid() && (!doc.Contains(l.Net6.Addr()) || l.Net6.Bits() > 126) {
			errs = append(errs, fmt.Errorf("link %d: IPv6 subnet %s must be inside 2001:db8::/32, at most /126", i, l.Net6))
		}
		if !l.Net4.IsValid() && !l.Net6.IsValid() {
			errs = append(errs, fmt.Errorf("link %d: needs an IPv4 or IPv6 subnet", i))
		}
	}
	return errors.Join(errs...)
}

func checkAddr(a netip.Addr) error {
	if netip.MustParsePrefix("10.0.0.0/8").Contains(a) || netip.MustParsePrefix("2001:db8::/32").Contains(a) {
		return nil
	}
	return fmt.Errorf("extra address %s must be inside 10.0.0.0/8 or 2001:db8::/32", a)
}

// ip runs the ip command and returns its error with its output.
func ip(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}
