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
