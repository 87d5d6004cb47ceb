#!/usr/bin/env bash
# Server throughput: starts Debian's knotd on a loopback port as the upstream
# resolver and `dnsscience serve` on another, warms the DNS cache, finishes a
# dns measurement, then runs wrk against the cached DNS endpoint and the
# measurement-status endpoint and prints requests/s and p99 latency of each.
# The DNS quota is raised (--rate-limit) because wrk is one client; access
# logs run at the default level (info, one JSON line a request) unless
# LOG_LEVEL says otherwise. Usage: bench/server.sh path/to/dnsscience
# Knobs (environment): THREADS (2), CONNS (64), DURATION (15s), ROUNDS (3;
# medians are reported), LOG_LEVEL (info), WRK_OUT (a path prefix: keep
# wrk's full output there).
set -euo pipefail
. "$(dirname "$0")/lib.bash"

bin=${1:?usage: bench/server.sh path/to/dnsscience}
THREADS=${THREADS:-2}
CONNS=${CONNS:-64}
DURATION=${DURATION:-15s}
ROUNDS=${ROUNDS:-3}
LOG_LEVEL=${LOG_LEVEL:-info}

skip() { echo "SKIP bench/server.sh: $*"; exit 0; }
for tool in knotd wrk curl dig; do
	command -v "$tool" >/dev/null || skip "$tool is not installed (Debian packages in deps/apt/server.list and dns.list: make deps)"
done
[ -x "$bin" ] || { echo "bench/server.sh: $bin is not an executable (make build)" >&2; exit 1; }
"$bin" serve --help 2>/dev/null | grep -q -- '--rate-limit' || skip "$bin serve has no --rate-limit yet"

work=$(mktemp -d)
knot_pid= srv_pid=
cleanup() {
	for p in $srv_pid $knot_pid; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

# free_port prints a loopback port free for TCP and UDP.
free_port() {
	local p
	for _ in $(seq 50); do
		p=$((20000 + RANDOM % 40000))
		if ! command -v ss >/dev/null; then echo "$p"; return; fi
		if ! ss -Hlnu "sport = :$p" | grep -q . && ! ss -Hlnt "sport = :$p" | grep -q .; then echo "$p"; return; fi
	done
	echo "bench/server.sh: no free port found" >&2; exit 1
}
dns_port=$(free_port)
http_port=$(free_port)
[ "$dns_port" != "$http_port" ] || http_port=$(free_port)

cat >"$work/bench.test.zone" <<'ZONE'
$TTL 3600
@ IN SOA ns1.bench.test. hostmaster.bench.test. 1 7200 3600 1209600 300
@ IN NS ns1.bench.test.
ns1 IN A 127.0.0.1
www IN A 10.0.0.1
www IN A 10.0.0.2
ZONE
start_knotd "$work" "$dns_port" bench.test "$work/bench.test.zone" || exit 1

base=http://127.0.0.1:$http_port
"$bin" serve --listen "127.0.0.1:$http_port" --data "$work/data" --geo-data "$work" \
	--upstream "127.0.0.1:$dns_port" --rate-limit dns=1000000000/1m --log-level "$LOG_LEVEL" \
	>"$work/serve.out" 2>"$work/serve.log" &
srv_pid=$!
for _ in $(seq 100); do
	curl -fs "$base/health" >/dev/null 2>&1 && break
	kill -0 "$srv_pid" 2>/dev/null || { cat "$work/serve.log" >&2; echo "bench/server.sh: serve did not start" >&2; exit 1; }
	sleep 0.1
done

# Warm the cache: the second answer must be a hit.
dns_url=$base/api/v1/dns/www.bench.test/A
curl -fs "$dns_url" >/dev/null
curl -fsi "$dns_url" | grep -qi '^x-cache: HIT' || { echo "bench/server.sh: DNS answer not cached" >&2; exit 1; }

# A finished dns measurement.
id=$(curl -fs "$base/api/v1/measurements" -H 'Content-Type: application/json' \
	-d '{"type":"dns","target":"www.bench.test","options":{"type":"A"}}' | sed -n 's/.*"id": *"\([^"]*\)".*/\1/p')
[ -n "$id" ] || { echo "bench/server.sh: no measurement id" >&2; exit 1; }
meas_url=$base/api/v1/measurements/$id
for _ in $(seq 100); do
	curl -fs "$meas_url" | grep -q '"status": *"finished"' && break
	sleep 0.1
done
curl -fs "$meas_url" | grep -q '"status": *"finished"' || { echo "bench/server.sh: measurement $id did not finish" >&2; exit 1; }

echo "dnsscience serve on $base (log level $LOG_LEVEL), knotd upstream on 127.0.0.1:$dns_port"
echo "wrk -t$THREADS -c$CONNS -d$DURATION --latency, $ROUNDS rounds taking turns, on $(nproc) cores shared with wrk (medians last)"
# run_wrk LABEL URL appends "req/s p99_ms" of one wrk run to $work/LABEL.
run_wrk() {
	local label=$1 url=$2 out rps p99 errs
	out=$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency "$url")
	[ -z "${WRK_OUT:-}" ] || echo "$out" >>"$WRK_OUT.$label"
	rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
	p99=$(awk '$1 == "99%" {v = $2; if (v ~ /us$/) { sub(/us$/, "", v); v /= 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v) } else if (v ~ /s$/) { sub(/s$/, "", v); v *= 1000 }; print v}' <<<"$out")
	errs=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' <<<"$out")
	[ -z "$errs" ] || { echo "bench/server.sh: $label: $errs answers were not 2xx" >&2; exit 1; }
	echo "$rps $p99" >>"$work/$label"
	printf '  %-12s %10.0f req/s   p99 %7.2f ms\n' "$label" "$rps" "$p99"
}
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
for r in $(seq "$ROUNDS"); do
	echo "round $r"
	run_wrk dns "$dns_url"
	run_wrk measurement "$meas_url"
done
for label in dns measurement; do
	rps=$(awk '{print $1}' "$work/$label" | median)
	p99=$(awk '{print $2}' "$work/$label" | median)
	case $label in
	dns) what="GET /api/v1/dns/{name}/{type} (cached)" ;;
	measurement) what="GET /api/v1/measurements/{id} (finished)" ;;
	esac
	printf 'median %-42s %10.0f req/s   p99 %7.2f ms\n' "$what" "$rps" "$p99"
done
