# Shared by the bench scripts (sourced, not run: make bench runs bench/*.sh,
# and this file has no .sh suffix).

# start_knotd DIR PORT DOMAIN ZONEFILE [transfer]: serves ZONEFILE as DOMAIN
# with Debian's knotd on 127.0.0.1:PORT (config and state in DIR), waits until
# it answers for ns1.DOMAIN, and sets knot_pid. With "transfer", loopback may
# transfer the zone. The caller stops it (trap).
start_knotd() {
	local dir=$1 port=$2 domain=$3 zone=$4 acl_def= acl_use=
	if [ "${5:-}" = transfer ]; then
		acl_def=$'acl:\n  - id: xfr\n    address: 127.0.0.0/8\n    action: transfer'
		acl_use='    acl: [xfr]'
	fi
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
$acl_def
zone:
  - domain: $domain
    file: "$zone"
$acl_use
KNOT
	knotd -c "$dir/knot.conf" 2>"$dir/knotd.log" &
	knot_pid=$!
	wait_until "$knot_pid" "$dir/knotd.log" "knotd on 127.0.0.1:$port" knot_answers "$port" "ns1.$domain"
}

# knot_answers PORT NAME: whether 127.0.0.1:PORT answers NAME A with 127.0.0.1.
knot_answers() {
	[ "$(dig +short +time=1 +tries=1 @127.0.0.1 -p "$1" "$2" A 2>/dev/null)" = 127.0.0.1 ]
}

# wait_until PID LOG WHAT CMD...: runs CMD until it succeeds (20 s at most)
# while PID lives; otherwise prints LOG and fails saying WHAT did not start.
wait_until() {
	local pid=$1 log=$2 what=$3
	shift 3
	for _ in $(seq 200); do
		"$@" >/dev/null 2>&1 && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	cat "$log" >&2
	echo "bench: $what did not start" >&2
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

# free_port: prints a loopback port free for UDP and TCP (checked with ss
# when it is installed).
free_port() {
	local p
	for _ in $(seq 50); do
		p=$((20000 + RANDOM % 40000))
		if ! command -v ss >/dev/null; then echo "$p"; return 0; fi
		if ! ss -Hlnu "sport = :$p" | grep -q . && ! ss -Hlnt "sport = :$p" | grep -q .; then echo "$p"; return 0; fi
	done
	return 1
}
