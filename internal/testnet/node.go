//go:build linux

package testnet

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"
)

// sysctls set in every namespace: routers forward, ICMP errors are not rate
// limited (so concurrent traces all get answers), ECMP hashes on L4 ports,
// and IPv6 addresses skip duplicate address detection.
var sysctls = map[string]string{
	"net/ipv4/ip_forward":                    "1",
	"net/ipv6/conf/all/forwarding":           "1",
	"net/ipv4/icmp_ratelimit":                "0",
	"net/ipv4/icmp_msgs_per_sec":             "1000000",
	"net/ipv4/icmp_msgs_burst":               "1000000",
	"net/ipv6/icmp/ratelimit":                "0",
	"net/ipv4/fib_multipath_hash_policy":     "1",
	"net/ipv6/fib_multipath_hash_policy":     "1",
	"net/ipv4/conf/all/rp_filter":            "0",
	"net/ipv4/conf/default/rp_filter":        "0",
	"net/ipv6/conf/all/accept_dad":           "0",
	"net/ipv6/conf/default/accept_dad":       "0",
	"net/ipv4/ping_group_range":              "0 2147483647",
	"net/ipv4/conf/all/accept_redirects":     "0",
	"net/ipv4/conf/default/accept_redirects": "0",
	"net/ipv4/conf/all/send_redirects":       "0",
	"net/ipv4/conf/default/send_redirects":   "0",
}

func (n *Node) create() error {
	if err := ip("netns", "add", n.NS); err != nil {
		return err
	}
	if err := ip("-n", n.NS, "link", "set", "lo", "up"); err != nil {
		return err
	}
	return n.Do(func() error {
		for k, v := range sysctls {
			if err := os.WriteFile(filepath.Join("/proc/sys", k), []byte(v), 0o644); err != nil && !os.IsNotExist(err) {
				return fmt.Errorf("setting %s in %s: %w", k, n.NS, err)
			}
		}
		return nil
	})
}

// filter installs the Silent and DropAll policy rules and the ICMP limit.
func (n *Node) filter() error {
	if n.spec.ICMPLimit != "" {
		if err := n.limitICMP(n.spec.ICMPLimit); err != nil {
			return err
		}
	}
	for _, fam := range []string{"-4", "-6"} {
		if n.spec.Silent || n.spec.DropAll {
			if err := ip("-n", n.NS, fam, "rule", "add", "pref", "5", "iif", "lo", "blackhole"); err != nil {
				return err
			}
		}
		if n.spec.DropAll {
			if err := ip("-n", n.NS, fam, "rule", "add", "pref", "6", "blackhole"); err != nil {
				return err
			}
		}
	}
	return nil
}

// limitICMP drops the time-exceeded messages the node sends beyond rate.
func (n *Node) limitICMP(rate string) error {
	rules := fmt.Sprintf(`table inet testnet {
	chain out {
		type filter hook output priority 0;
		icmp type time-exceeded limit rate over %[1]s drop
		icmpv6 type time-exceeded limit rate over %[1]s drop
	}
}
`, rate)
	cmd := exec.Command("ip", "netns", "exec", n.NS, "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(rules)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("limiting ICMP on %s with nft: %w: %s", n.Name, err, out)
	}
	return nil
}

// Do runs fn on an OS thread switched into the node's namespace. Sockets fn
// opens belong to the namespace and may be used from any goroutine after;
// goroutines fn starts run in the namespace of their own thread, so fn must
// open every socket itself.
func (n *Node) Do(fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("opening current namespace: %w", err)
			return
		}
		defer orig.Close()
		target, err := os.Open("/run/netns/" + n.NS)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("opening namespace %s: %w", n.NS, err)
			return
		}
		defer target.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("entering namespace %s: %w", n.NS, err)
			return
		}
		ferr := fn()
		// Leave the thread locked (so it exits) when it cannot go back.
		if unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
		errc <- ferr
	}()
	return <-errc
}

// Command returns an external command that runs inside the namespace
// (through `ip netns exec`).
func (n *Node) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", n.NS, name}, args...)...)
}

// Addr4 is the node's first IPv4 address (the zero Addr when it has none).
func (n *Node) Addr4() netip.Addr { return first(n.Addrs4) }

// Addr6 is the node's first IPv6 address (the zero Addr when it has none).
func (n *Node) Addr6() netip.Addr { return first(n.Addrs6) }

func first(a []netip.Addr) netip.Addr {
	if len(a) == 0 {
		return netip.Addr{}
	}
	return a[0]
}

// LinkAddr returns node's address on the link to peer in the given family
// (4 or 6): the address a trace shows for node when it is reached from
// peer's side.
func (n *Network) LinkAddr(node, peer string, family int) netip.Addr {
	for _, l := range n.links {
		p := l.Net4
		if family == 6 {
			p = l.Net6
		}
		switch {
		case l.A == node && l.B == peer:
			return hostAddr(p, 1)
		case l.B == node && l.A == peer:
			return hostAddr(p, 2)
		}
	}
	return netip.Addr{}
}

// hostAddr returns host number i of p (the zero Addr for an invalid p).
func hostAddr(p netip.Prefix, i int) netip.Addr {
	if !p.IsValid() {
		return netip.Addr{}
	}
	a := p.Masked().Addr()
	for ; i > 0; i-- {
		a = a.Next()
	}
	return a
}

// wire creates the links and addresses.
func (n *Network) wire() error {
	for i, l := range n.links {
		dev := fmt.Sprintf("l%d", i)
		a, b := n.nodes[l.A], n.nodes[l.B]
		if err := ip("link", "add", "name", dev, "address", mac(i, 1), "netns", a.NS, "type", "veth",
			"peer", "name", dev, "address", mac(i, 2), "netns", b.NS); err != nil {
			return err
		}
		for side, node := range []*Node{a, b} {
			if err := node.addLinkAddrs(dev, l, side+1); err != nil {
				return err
			}
		}
		// Permanent neighbour entries: no ARP or neighbour discovery, whose
		// first solicitation on a fresh link is often lost.
		for side, node := range []*Node{a, b} {
			peer := 2 - side
			for _, p := range []netip.Prefix{l.Net4, l.Net6} {
				if p.IsValid() {
					if err := ip("-n", node.NS, "neigh", "replace", hostAddr(p, peer).String(), "lladdr", mac(i, peer), "dev", dev, "nud", "permanent"); err != nil {
						return err
					}
				}
			}
		}
	}
	for _, node := range n.nodes {
		for _, x := range node.spec.Extra {
			bits := 32
			if x.Is6() {
				bits = 128
			}
			if err := ip("-n", node.NS, "addr", "add", netip.PrefixFrom(x, bits).String(), "dev", "lo"); err != nil {
				return err
			}
			if x.Is4() {
				node.Addrs4 = append(node.Addrs4, x)
			} else {
				node.Addrs6 = append(node.Addrs6, x)
			}
		}
	}
	return nil
}

// mac is the MAC address of side (1 or 2) of link i.
func mac(i, side int) string {
	return fmt.Sprintf("02:00:%02x:%02x:00:%02x", (i>>8)&0xff, i&0xff, side)
}

func (node *Node) addLinkAddrs(dev string, l LinkSpec, host int) error {
	if a := hostAddr(l.Net4, host); a.IsValid() {
		if err := ip("-n", node.NS, "addr", "add", netip.PrefixFrom(a, l.Net4.Bits()).String(), "dev", dev); err != nil {
			return err
		}
		node.Addrs4 = append(node.Addrs4, a)
	}
	if a := hostAddr(l.Net6, host); a.IsValid() {
		if err := ip("-n", node.NS, "addr", "add", netip.PrefixFrom(a, l.Net6.Bits()).String(), "dev", dev, "nodad"); err != nil {
			return err
		}
		node.Addrs6 = append(node.Addrs6, a)
	}
	return ip("-n", node.NS, "link", "set", dev, "up")
}
