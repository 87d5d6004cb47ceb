#!/usr/bin/env bash
# Rate-limited path benchmark: dnsscience trace vs traceroute -n vs
# mtr -r -c 1 vs tracepath on a 30-hop path in network namespaces
# (src - r1..r29 - dst, 10.251.x.0/24) where r7, r15 and r22 are silent and
# r4, r10, r13 (nftables "limit rate 1/second burst 1 packets") and r18, r25
# ("1/second burst 2 packets") rate-limit the ICMP time-exceeded they send.
# For every tool: wall time, answering hops reported silent ("wrongly
# silent"), silent hops reported answering, and hops labelled rate-limited.
# Two scenarios: limits full (2.1 s of refill before each tool), and limits
# just spent (a traceroute run right before each tool, as other traffic
# does on real networks).
# Usage: bench/trace_ratelimit.sh path/to/dnsscience   (needs root; skips otherwise)
set -euo pipefail
. "$(dirname "$0")/lib.bash"
BIN=$(readlink -f "${1:-bin/dnsscience}")
if [ "$(id -u)" -ne 0 ]; then echo "bench/trace_ratelimit.sh: skipped: network namespaces need root"; exit 0; fi
for c in ip nft traceroute mtr tracepath bc; do
	command -v "$c" >/dev/null || { echo "bench/trace_ratelimit.sh: skipped: $c is missing (deps/apt/trace.list)"; exit 0; }
done
P="dstnr$$-"
NODES=(src)
for i in $(seq 1 29); do NODES+=("r$i"); done
NODES+=(dst)
SILENT="7 15 22"
cleanup() { for n in "${NODES[@]}"; do ip netns del "$P$n" 2>/dev/null || true; done; }
trap cleanup EXIT
T=10.251.29.2

build() {
	local k
	netns_chain "$P" 251 "${NODES[@]}"
	# Warm the neighbour caches before any limit is in place.
	ip netns exec "${P}src" traceroute -n -q1 -w1 "$T" >/dev/null 2>&1 || true
	for k in $SILENT; do ip -n "${P}r$k" rule add pref 5 iif lo blackhole; done
	limit 4 1; limit 10 1; limit 13 1; limit 18 2; limit 25 2
}

limit() { # limit ROUTER BURST
	ip netns exec "${P}r$1" nft -f - <<NFT
table inet bench {
	chain out {
		type filter hook output priority 0;
		icmp type time-exceeded limit rate over 1/second burst $2 packets drop
	}
}
NFT
}

# ttls prints the TTL of every hop line that names an address, for the
# traceroute-like outputs (dnsscience, traceroute), mtr's report and tracepath.
ttls() {
	case $1 in
	mtr) awk '/\|--/ { split($1,a,"."); if ($2 != "???") print a[1] }' ;;
	tracepath) awk '$1 ~ /^[0-9]+\??:$/ && $2 ~ /^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$/ { sub(/\??:/, "", $1); print $1 }' ;;
	*) awk 'NR>1 { for (i=2;i<=NF;i++) if ($i ~ /^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$/) { print $1; break } }' ;;
	esac | sort -un
}

# score KIND OUT: "wrongly-silent wrongly-answering" against the 27
# answering TTLs (1..30 without the silent routers).
score() {
	local seen ws=0 wa=0 t
	seen=" $(ttls "$1" <"$2" | tr '\n' ' ') "
	for t in $(seq 1 30); do
		if [[ " $SILENT " == *" $t "* ]]; then
			[[ $seen == *" $t "* ]] && wa=$((wa + 1))
		else
			[[ $seen == *" $t "* ]] || ws=$((ws + 1))
		fi
	done
	echo "$ws $wa"
}

timeit() { # timeit OUTFILE cmd...: runs cmd in the source namespace, prints seconds
	local out=$1 t0 t1
	shift
	t0=$(date +%s.%N)
	ip netns exec "${P}src" "$@" >"$out" 2>&1 || true
	t1=$(date +%s.%N)
	echo "$t1 - $t0" | bc -l
}

row() { # row SCENARIO TOOL KIND cmd...
	local scenario=$1 tool=$2 kind=$3 out s ws wa rl
	shift 3
	out=$(mktemp)
	sleep 2.1 # the limiters refill (burst 2 at 1/second), not synchronisation
	if [ "$scenario" = spent ]; then
		ip netns exec "${P}src" traceroute -n "$T" >/dev/null 2>&1 || true
	fi
	s=$(timeit "$out" "$@")
	read -r ws wa < <(score "$kind" "$out")
	rl=$(grep -c 'rate-limited' "$out" || true)
	printf '%-12s %-34s %8.3f %9d %9d %8d\n' "$scenario" "$tool" "$s" "$ws" "$wa" "$rl"
	if [ -n "${BENCH_VERBOSE:-}" ]; then cat "$out"; fi
	rm -f "$out"
}

build
echo "30 hops: silent r7 r15 r22; limited r4 r10 r13 (1/s, burst 1), r18 r25 (1/s, burst 2); 27 hops answer"
printf '%-12s %-34s %8s %9s %9s %8s\n' "limits" "tool" "seconds" "wr.silent" "wr.answer" "labelled"
for scenario in full spent; do
	row "$scenario" "dnsscience trace -n --no-geo" plain "$BIN" trace -n --no-geo "$T"
	row "$scenario" "dnsscience ... --retry-pause 1s" plain "$BIN" trace -n --no-geo --retry-pause 1s "$T"
	row "$scenario" "traceroute -n" plain traceroute -n "$T"
	row "$scenario" "mtr -r -c 1 -n" mtr mtr -r -c 1 -n "$T"
	row "$scenario" "tracepath -n" tracepath tracepath -n "$T"
done
