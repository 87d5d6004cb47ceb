//go:build linux

package testnet

import (
	"fmt"
	"net/netip"
)

// Chain describes a path: a node "src", routers "r1" ... "r<routers>", and
// a node "dst". Link i (from the source side, counting from 0) uses
// 10.<net>.<i>.0/24 and 2001:db8:<net>:<i>::/64, so every hop has a
// predictable address: router k is reached at 10.<net>.<k-1>.2. net tells
// apart chains built by tests that run at the same time in one namespace
// tree; it does not matter across networks (each is its own set of
// namespaces).
func Chain(net byte, routers int) Topology {
	var t Topology
	names := []string{"src"}
	for i := 1; i <= routers; i++ {
		names = append(names, fmt.Sprintf("r%d", i))
	}
	names = append(names, "dst")
	for _, nm := range names {
		t.Nodes = append(t.Nodes, NodeSpec{Name: nm})
	}
	for i := 0; i+1 < len(names); i++ {
		t.Links = append(t.Links, LinkSpec{A: names[i], B: names[i+1], Net4: Net4(net, byte(i)), Net6: Net6(net, byte(i))})
	}
	return t
}

// Net4 returns 10.<a>.<b>.0/24.
func Net4(a, b byte) netip.Prefix {
	return netip.PrefixFrom(netip.AddrFrom4([4]byte{10, a, b, 0}), 24)
}

// Net6 returns 2001:db8:<a>:<b>::/64.
func Net6(a, b byte) netip.Prefix {
	return netip.PrefixFrom(netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, a, 0, b}), 64)
}

// Spec returns a pointer to the named node's spec so a test can mark it
// Silent or DropAll, or give it Extra addresses; nil when there is none.
func (t *Topology) Spec(name string) *NodeSpec {
	for i := range t.Nodes {
		if t.Nodes[i].Name == name {
			return &t.Nodes[i]
		}
	}
	return nil
}

// PathAddrs returns, for a path of node names, the address each node after
// the first shows to a trace from the first (its address on the link
// towards the previous node): the hop list a traceroute should print.
func (n *Network) PathAddrs(family int, path ...string) []netip.Addr {
	var out []netip.Addr
	for i := 1; i < len(path); i++ {
		out = append(out, n.LinkAddr(path[i], path[i-1], family))
	}
	return out
}
