#!/usr/bin/env bash
# Zone transfer vs dig: knotd serves a zone of $RECORDS A records on a
# loopback port; `dig AXFR` and `dnsscience dig AXFR` transfer it in turns,
# output to a file each, and the script prints the median wall time of each,
# their ratio and the records each printed (both must print every record).
# Usage: bench/axfr.sh path/to/dnsscience
# Knobs (environment): RECORDS (100000), ROUNDS (7; medians are reported).
set -euo pipefail
. "$(dirname "$0")/lib.bash"

bin=${1:?usage: bench/axfr.sh path/to/dnsscience}
RECORDS=${RECORDS:-100000}
ROUNDS=${ROUNDS:-7}

skip() { echo "SKIP bench/axfr.sh: $*"; exit 0; }
for tool in knotd dig; do
	command -v "$tool" >/dev/null || skip "$tool is not installed (Debian packages in deps/apt/dns.list: make deps)"
done
[ -x /usr/bin/time ] || skip "/usr/bin/time is not installed (Debian package time, in deps/apt/dns.list)"
[ -x "$bin" ] || { echo "bench/axfr.sh: $bin is not an executable (make build)" >&2; exit 1; }
help=$("$bin" dig --help 2>/dev/null || true)
if [[ $help != *AXFR* ]]; then
	skip "$bin has no zone transfers yet"
fi

work=$(mktemp -d)
knot_pid=
cleanup() {
	if [ -n "$knot_pid" ]; then kill "$knot_pid" 2>/dev/null || true; wait "$knot_pid" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

port=$(free_port) || { echo "bench/axfr.sh: no free port found" >&2; exit 1; }
{
	echo '$TTL 3600'
	echo '@ IN SOA ns1.xfr.test. hostmaster.xfr.test. 1 7200 3600 1209600 300'
	echo '@ IN NS ns1.xfr.test.'
	echo 'ns1 IN A 127.0.0.1'
	awk -v n="$RECORDS" 'BEGIN { for (i = 0; i < n; i++) printf "h%d IN A 10.%d.%d.%d\n", i, int(i/65536)%256, int(i/256)%256, i%256 }'
} >"$work/xfr.test.zone"
start_knotd "$work" "$port" xfr.test "$work/xfr.test.zone" transfer || exit 1
echo "knotd $(knotd --version | awk '{print $NF}') on 127.0.0.1:$port, zone of $RECORDS A records; $ROUNDS rounds"

# run_one TOOL: prints "wall_seconds cpu_seconds records" (CPU = user +
# system, which a loaded machine skews less than wall time).
run_one() {
	local n
	if [ "$1" = dig ]; then
		/usr/bin/time -f '%e %U %S' -o "$work/time.txt" dig @127.0.0.1 -p "$port" xfr.test AXFR >"$work/out.txt"
	else
		/usr/bin/time -f '%e %U %S' -o "$work/time.txt" "$bin" dig "@127.0.0.1:$port" xfr.test AXFR >"$work/out.txt"
	fi
	n=$(grep -vc '^;\|^$' "$work/out.txt" || true)
	awk -v n="$n" '{ printf "%.3f %.3f %d\n", $1, $2 + $3, n }' "$work/time.txt"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
: >"$work/dig"; : >"$work/ours"; : >"$work/ratio"; : >"$work/dcpu"; : >"$work/ocpu"; : >"$work/cratio"
want=$((RECORDS + 4))
for r in $(seq "$ROUNDS"); do
	if [ $((r % 2)) -eq 1 ]; then
		read -r ds dc dn < <(run_one dig); read -r os oc on < <(run_one ours)
	else
		read -r os oc on < <(run_one ours); read -r ds dc dn < <(run_one dig)
	fi
	[ "$dn" -eq "$want" ] || { echo "bench/axfr.sh: dig printed $dn records, want $want" >&2; exit 1; }
	[ "$on" -eq "$want" ] || { echo "bench/axfr.sh: dnsscience printed $on records, want $want" >&2; exit 1; }
	printf '  round %d: dig %.3f s (CPU %.2f s)   dnsscience %.3f s (CPU %.2f s)   %d records each\n' "$r" "$ds" "$dc" "$os" "$oc" "$on"
	echo "$ds" >>"$work/dig"; echo "$os" >>"$work/ours"; echo "$dc" >>"$work/dcpu"; echo "$oc" >>"$work/ocpu"
	awk -v a="$os" -v b="$ds" 'BEGIN { print a/b }' >>"$work/ratio"
	awk -v a="$oc" -v b="$dc" 'BEGIN { if (b > 0) print a/b }' >>"$work/cratio"
done
echo
echo "AXFR of $want records (median of $ROUNDS rounds):"
printf '  dig         %.3f s wall, %.2f s CPU\n' "$(median <"$work/dig")" "$(median <"$work/dcpu")"
printf '  dnsscience  %.3f s wall, %.2f s CPU\n' "$(median <"$work/ours")" "$(median <"$work/ocpu")"
printf '  ratio       %.2f dnsscience/dig wall time, %.2f CPU time (medians of the per-round ratios; target <= 1.00)\n' "$(median <"$work/ratio")" "$(median <"$work/cratio")"
