#!/usr/bin/env bash
# Traceroute benchmark: dnsscience trace vs traceroute -n vs mtr -r -c 1 in a
# network-namespace path of 6 hops (src - r1..r5 - dst), first with router r3
# silent and a destination that drops everything, then with every hop
# answering. Prints wall times, ratios and whether the hops found agree.
# Usage: bench/trace.sh path/to/dnsscience   (needs root; skips otherwise)
set -euo pipefail
. "$(dirname "$0")/lib.bash"
BIN=$(readlink -f "${1:-bin/dnsscience}")
if [ "$(id -u)" -ne 0 ]; then echo "bench/trace.sh: skipped: network namespaces need root"; exit 0; fi
for c in ip traceroute mtr; do
  command -v "$c" >/dev/null || { echo "bench/trace.sh: skipped: $c is missing (deps/apt/trace.list)"; exit 0; }
done
P="dstnb$$-"
NODES=(src r1 r2 r3 r4 r5 dst)
cleanup() { for n in "${NODES[@]}"; do ip netns del "$P$n" 2>/dev/null || true; done; }
trap cleanup EXIT

build() {
  cleanup
  netns_chain "$P" 250 "${NODES[@]}"
  # Warm the neighbour caches so no tool pays for ARP.
  ip netns exec "${P}src" traceroute -n -q1 -w1 -m7 10.250.5.2 >/dev/null 2>&1 || true
  if [ "${1:-}" = lossy ]; then
    ip -n "${P}r3" rule add pref 5 iif lo blackhole
    ip -n "${P}dst" rule add pref 5 iif lo blackhole
    ip -n "${P}dst" rule add pref 6 blackhole
  fi
}

# hops prints "ttl ip" for every answered hop of traceroute-style output.
hops() { awk 'NR>1 { for (i=2;i<=NF;i++) if ($i ~ /^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$/) { print $1, $i; break } }'; }
mtrhops() { awk '/\|--/ { split($1,a,"."); if ($2 != "???") print a[1], $2 }'; }

timeit() { # timeit OUTFILE cmd...: runs cmd in the source namespace, prints seconds
  local out=$1; shift
  local t0 t1
  t0=$(date +%s.%N)
  ip netns exec "${P}src" "$@" >"$out" 2>&1 || true
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc -l
}

# median OUTFILE REPS cmd...: the median wall time of REPS runs.
median() {
  local out=$1 reps=$2; shift 2
  for _ in $(seq "$reps"); do timeit "$out" "$@"; done | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'
}

run() { # run SCENARIO REPS: dnsscience and traceroute REPS times (median), mtr once
  local tmp; tmp=$(mktemp -d)
  local d t m reps=${2:-1}
  d=$(median "$tmp/d" "$reps" "$BIN" trace -n --no-geo 10.250.5.2)
  t=$(median "$tmp/t" "$reps" traceroute -n 10.250.5.2)
  m=$(timeit "$tmp/m" mtr -r -c 1 -n 10.250.5.2)
  local same="yes"
  cmp -s <(hops <"$tmp/d") <(hops <"$tmp/t") || same="NO"
  cmp -s <(hops <"$tmp/d") <(mtrhops <"$tmp/m") || same="$same (mtr: differs)"
  printf '%-34s %9.3f %9.3f %9.3f %10.1fx %10.1fx  %s\n' "$1" "$d" "$t" "$m" \
    "$(echo "$t / $d" | bc -l)" "$(echo "$m / $d" | bc -l)" "$same"
  if [ "$same" != yes ]; then
    echo "--- dnsscience:"; cat "$tmp/d"; echo "--- traceroute:"; cat "$tmp/t"; echo "--- mtr:"; cat "$tmp/m"
  fi
  rm -rf "$tmp"
}

printf '%-34s %9s %9s %9s %11s %11s  %s\n' "scenario (6 hops)" "dnss s" "tracert s" "mtr s" "tracert/dn" "mtr/dn" "same hops"
build lossy
run "silent r3, destination drops all"
build
run "every hop answers (median of 9)" 9
printf '%-34s %9.3f   (the same trace with ASN and place per hop from data/, median of 9)\n' "dnsscience trace -n (geo)" \
  "$(cd "$(dirname "$0")/.." && median /dev/null 9 "$BIN" trace -n 10.250.5.2)"
printf '%-34s %9.3f   (start-up of the Go binary alone, for the row above)\n' "dnsscience version" \
  "$(median /dev/null 9 "$BIN" version)"
