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
	for _ in $(seq 100); do
		[ "$(dig +short +time=1 +tries=1 @127.0.0.1 -p "$port" "ns1.$domain" A 2>/dev/null)" = 127.0.0.1 ] && return 0
		kill -0 "$knot_pid" 2>/dev/null || break
		sleep 0.1
	done
	cat "$dir/knotd.log" >&2
	echo "knotd did not start on 127.0.0.1:$port" >&2
	return 1
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
