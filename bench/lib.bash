# Shared by the bench scripts (sourced, not run: make bench runs bench/*.sh,
# and this file has no .sh suffix).

# start_knotd DIR PORT DOMAIN ZONEFILE: serves ZONEFILE as DOMAIN with Debian's
# knotd on 127.0.0.1:PORT (config and state in DIR), waits until it answers
# for ns1.DOMAIN, and sets knot_pid. The caller stops it (trap).
start_knotd() {
	local dir=$1 port=$2 domain=$3 zone=$4
	cat >"$dir/knot.conf" <<KNOT
server:
    rundir: "$dir"
    listen: 127.0.0.1@$port
log:
  - target: stderr
    any: warning
database:
    storage: "$dir"
template:
  - id: default
    storage: "$dir"
    semantic-checks: off
zone:
  - domain: $domain
    file: "$zone"
KNOT
	knotd -c "$dir/knot.conf" 2>"$dir/knotd.log" &
	knot_pid=$!
	for _ in $(seq 100); do
		[ "$(dig +short +time=1 +tries=1 @127.0.0.1 -p "$port" "ns1.$domain" A 2>/dev/null)" = 127.0.0.1 ] && return 0
		kill -0 "$knot_pid" 2>/dev/null || break
		sleep 0.1
	done
	cat "$dir/knotd.log" >&2
	echo "knotd did not start on 127.0.0.1:$port" >&2
	return 1
}

# netns_chain PREFIX NET NODE...: a path of network namespaces PREFIX<NODE>
# joined in order by veth links l0, l1, ... (link i is 10.NET.i.0/24: host
# .1 on the first node's side, .2 on the next), with forwarding on, the
# kernel's ICMP rate limits off and static routes along the path. The
# caller deletes the namespaces (trap).
netns_chain() {
	local p=$1 net=$2 i k j n
	shift 2
	local nodes=("$@")
	local links=$((${#nodes[@]} - 1))
	for n in "${nodes[@]}"; do
		ip netns add "$p$n"
		ip -n "$p$n" link set lo up
		ip netns exec "$p$n" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.icmp_ratelimit=0 \
			net.ipv4.icmp_msgs_per_sec=1000000 net.ipv4.icmp_msgs_burst=1000000
	done
	for ((i = 0; i < links; i++)); do
		ip link add name "l$i" netns "$p${nodes[$i]}" type veth peer name "l$i" netns "$p${nodes[$((i + 1))]}"
		ip -n "$p${nodes[$i]}" addr add "10.$net.$i.1/24" dev "l$i"
		ip -n "$p${nodes[$((i + 1))]}" addr add "10.$net.$i.2/24" dev "l$i"
		ip -n "$p${nodes[$i]}" link set "l$i" up
		ip -n "$p${nodes[$((i + 1))]}" link set "l$i" up
	done
	for ((k = 0; k <= links; k++)); do
		for ((j = 0; j < links; j++)); do
			if [ "$j" -lt $((k - 1)) ]; then ip -n "$p${nodes[$k]}" route add "10.$net.$j.0/24" via "10.$net.$((k - 1)).1"
			elif [ "$j" -gt "$k" ]; then ip -n "$p${nodes[$k]}" route add "10.$net.$j.0/24" via "10.$net.$k.2"
			fi
		done
	done
}
