//go:build linux

package testnet

import (
	"fmt"
	"net/netip"
)

// edge is one direction of a link: from a node to a neighbour.
type edge struct {
	to  string
	dev string
	gw  netip.Addr // the neighbour's address on the link
}

// destination is a prefix and the nodes it is attached to.
type destination struct {
	prefix netip.Prefix
	at     []string
}

// route installs, on node, a route to every prefix it is not attached to,
// along every shortest path: one next hop, or an ECMP route when several
// neighbours are equally close.
func (n *Network) route(node *Node) error {
	for _, fam := range []int{4, 6} {
		adj := n.adjacency(fam)
		for _, d := range n.destinations(fam) {
			dist := bfs(adj, d.at)
			dx, ok := dist[node.Name]
			if !ok || dx == 0 {
				continue
			}
			var hops []edge
			for _, e := range adj[node.Name] {
				if dy, ok := dist[e.to]; ok && dy == dx-1 {
					hops = append(hops, e)
				}
			}
			if err := addRoute(node.NS, fam, d.prefix, hops); err != nil {
				return err
			}
		}
	}
	return nil
}

func addRoute(ns string, fam int, p netip.Prefix, hops []edge) error {
	args := []string{"-n", ns, fmt.Sprintf("-%d", fam), "route", "add", p.String()}
	if len(hops) == 1 {
		args = append(args, "via", hops[0].gw.String(), "dev", hops[0].dev)
	} else {
		for _, h := range hops {
			args = append(args, "nexthop", "via", h.gw.String(), "dev", h.dev)
		}
	}
	return ip(args...)
}

func (n *Network) adjacency(fam int) map[string][]edge {
	adj := map[string][]edge{}
	for i, l := range n.links {
		p := l.Net4
		if fam == 6 {
			p = l.Net6
		}
		if !p.IsValid() {
			continue
		}
		dev := fmt.Sprintf("l%d", i)
		adj[l.A] = append(adj[l.A], edge{to: l.B, dev: dev, gw: hostAddr(p, 2)})
		adj[l.B] = append(adj[l.B], edge{to: l.A, dev: dev, gw: hostAddr(p, 1)})
	}
	return adj
}

func (n *Network) destinations(fam int) []destination {
	var out []destination
	for _, l := range n.links {
		p := l.Net4
		if fam == 6 {
			p = l.Net6
		}
		if p.IsValid() {
			out = append(out, destination{prefix: p.Masked(), at: []string{l.A, l.B}})
		}
	}
	for _, node := range n.nodes {
		for _, x := range node.spec.Extra {
			if (fam == 4) == x.Is4() {
				out = append(out, destination{prefix: netip.PrefixFrom(x, x.BitLen()), at: []string{node.Name}})
			}
		}
	}
	return out
}

// bfs returns every node's hop distance to the nearest of the sources.
func bfs(adj map[string][]edge, sources []string) map[string]int {
	dist := map[string]int{}
	queue := []string{}
	for _, s := range sources {
		dist[s] = 0
		queue = append(queue, s)
	}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		for _, e := range adj[cur] {
			if _, seen := dist[e.to]; !seen {
				dist[e.to] = dist[cur] + 1
				queue = append(queue, e.to)
			}
		}
	}
	return dist
}
