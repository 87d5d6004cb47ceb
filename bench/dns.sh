#!/usr/bin/env bash
# DNS bulk vs dnsperf: starts Debian's knotd on a loopback port with a zone of
# $ZONE_NAMES names, then queries the same name list with dnsperf and with
# `dnsscience dig -f`, in turns, and prints queries/s of both, their ratio,
# the share of names answered, and dnsscience's peak RSS for a
# $BIG_NAMES-name input. Usage: bench/dns.sh path/to/dnsscience
# Knobs (environment): ZONE_NAMES (100000), BIG_NAMES (1000000), CONC (100,
# queries in flight for both tools), ROUNDS (5; medians are reported).
set -euo pipefail
. "$(dirname "$0")/lib.bash"

bin=${1:?usage: bench/dns.sh path/to/dnsscience}
ZONE_NAMES=${ZONE_NAMES:-100000}
BIG_NAMES=${BIG_NAMES:-1000000}
CONC=${CONC:-100}
ROUNDS=${ROUNDS:-5}

skip() { echo "SKIP bench/dns.sh: $*"; exit 0; }
for tool in knotd dnsperf dig; do
	command -v "$tool" >/dev/null || skip "$tool is not installed (Debian packages in deps/apt/dns.list: make deps)"
done
[ -x /usr/bin/time ] || skip "/usr/bin/time is not installed (Debian package time, in deps/apt/dns.list)"
[ -x "$bin" ] || { echo "bench/dns.sh: $bin is not an executable (make build)" >&2; exit 1; }
if ! "$bin" dig --help 2>/dev/null | grep -q -- '--concurrency'; then
	skip "$bin has no bulk mode (dig -f ... --concurrency) yet"
fi

work=$(mktemp -d)
knot_pid=
cleanup() {
	if [ -n "$knot_pid" ]; then kill "$knot_pid" 2>/dev/null || true; wait "$knot_pid" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

# A free loopback port for knotd (UDP and TCP).
port=
for _ in $(seq 50); do
	p=$((20000 + RANDOM % 40000))
	if ! command -v ss >/dev/null; then port=$p; break; fi
	if ! ss -Hlnu "sport = :$p" | grep -q . && ! ss -Hlnt "sport = :$p" | grep -q .; then port=$p; break; fi
done
[ -n "$port" ] || { echo "bench/dns.sh: no free port found" >&2; exit 1; }

# The zone and the name lists (dnsperf's "name type" format, which dig -f reads too).
{
	echo '$TTL 3600'
	echo '@ IN SOA ns1.bench.test. hostmaster.bench.test. 1 7200 3600 1209600 300'
	echo '@ IN NS ns1.bench.test.'
	echo 'ns1 IN A 127.0.0.1'
	awk -v n="$ZONE_NAMES" 'BEGIN { for (i = 0; i < n; i++) printf "h%d IN A 10.%d.%d.%d\n", i, int(i/65536)%256, int(i/256)%256, i%256 }'
} >"$work/bench.test.zone"
awk -v n="$ZONE_NAMES" 'BEGIN { for (i = 0; i < n; i++) printf "h%d.bench.test A\n", i }' >"$work/names.txt"
awk -v n="$BIG_NAMES" -v z="$ZONE_NAMES" 'BEGIN { for (i = 0; i < n; i++) printf "h%d.bench.test A\n", i%z }' >"$work/names-big.txt"

start_knotd "$work" "$port" bench.test "$work/bench.test.zone" || exit 1
echo "knotd $(knotd --version | awk '{print $NF}') on 127.0.0.1:$port, zone of $ZONE_NAMES names; $ROUNDS rounds of $ZONE_NAMES queries, $CONC in flight"

# cpu_of FILE: user + system seconds from a /usr/bin/time -f '%U %S' file.
cpu_of() { awk '{ printf "%.2f", $1 + $2 }' "$1"; }

# dnsperf_run FILE: prints "qps completed_share cpu_seconds".
dnsperf_run() {
	local out
	out=$(/usr/bin/time -f '%U %S' -o "$work/perf.time" dnsperf -s 127.0.0.1 -p "$port" -d "$1" -n 1 -q "$CONC" -e -t 5 2>&1)
	local qps share
	qps=$(awk '/Queries per second:/ { print $4 }' <<<"$out")
	share=$(awk '/Queries completed:/ { gsub(/[()%]/, "", $4); print $4/100 }' <<<"$out")
	echo "$qps $share $(cpu_of "$work/perf.time")"
}

# dnsscience_run FILE: prints "qps answered_share cpu_seconds"; the JSON
# Lines go to $work/out.jsonl.
dnsscience_run() {
	local err names secs queries noerror
	err=$(/usr/bin/time -f '%U %S' -o "$work/ours.time" "$bin" dig -f "$1" A "@127.0.0.1:$port" --concurrency "$CONC" -o "$work/out.jsonl" 2>&1 >/dev/null)
	# ";; N names in S.SSs (R names/s), Q queries"
	names=$(sed -n 's/^;; \([0-9]*\) names in \([0-9.]*\)s.*, \([0-9]*\) queries$/\1/p' <<<"$err")
	secs=$(sed -n 's/^;; \([0-9]*\) names in \([0-9.]*\)s.*, \([0-9]*\) queries$/\2/p' <<<"$err")
	queries=$(sed -n 's/^;; \([0-9]*\) names in \([0-9.]*\)s.*, \([0-9]*\) queries$/\3/p' <<<"$err")
	[ -n "$names" ] || { echo "bench/dns.sh: no summary from dnsscience: $err" >&2; exit 1; }
	noerror=$(grep -c '"rcode":"NOERROR"' "$work/out.jsonl" || true)
	awk -v q="$queries" -v s="$secs" -v a="$noerror" -v n="$names" -v c="$(cpu_of "$work/ours.time")" 'BEGIN { printf "%.0f %.4f %s\n", q/s, a/n, c }'
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

: >"$work/perf"; : >"$work/ours"; : >"$work/ratio"; : >"$work/answered"; : >"$work/pcpu"; : >"$work/ocpu"
for r in $(seq "$ROUNDS"); do
	# Alternate who goes first, so drift in the machine's load favours neither.
	if [ $((r % 2)) -eq 1 ]; then
		read -r pq ps pc < <(dnsperf_run "$work/names.txt")
		read -r oq os oc < <(dnsscience_run "$work/names.txt")
	else
		read -r oq os oc < <(dnsscience_run "$work/names.txt")
		read -r pq ps pc < <(dnsperf_run "$work/names.txt")
	fi
	[ -n "${pq:-}" ] || { echo "bench/dns.sh: dnsperf gave no rate" >&2; exit 1; }
	[ -n "${oq:-}" ] || { echo "bench/dns.sh: dnsscience gave no rate" >&2; exit 1; }
	printf '  round %d: dnsperf %8.0f q/s (%.2f%% answered, CPU %s s)   dnsscience %8.0f q/s (%.2f%% answered, CPU %s s)\n' "$r" "$pq" "$(awk -v s="$ps" 'BEGIN{print 100*s}')" "$pc" "$oq" "$(awk -v s="$os" 'BEGIN{print 100*s}')" "$oc"
	echo "$pq" >>"$work/perf"; echo "$oq" >>"$work/ours"; echo "$os" >>"$work/answered"; echo "$pc" >>"$work/pcpu"; echo "$oc" >>"$work/ocpu"
	awk -v a="$oq" -v b="$pq" 'BEGIN { print a/b }' >>"$work/ratio"
done
perf=$(median <"$work/perf")
ours=$(median <"$work/ours")
ratio=$(median <"$work/ratio")
answered=$(sort -n "$work/answered" | head -1)
rm -f "$work/out.jsonl"

# Peak RSS on the big input (results written to a file, as a user would).
/usr/bin/time -v -o "$work/time.txt" "$bin" dig -f "$work/names-big.txt" A "@127.0.0.1:$port" --concurrency "$CONC" -o "$work/out-big.jsonl" 2>"$work/big.err" >/dev/null
rss_kb=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$work/time.txt")
big_lines=$(wc -l <"$work/out-big.jsonl")
big_rate=$(sed -n 's/.*(\([0-9]*\) names\/s).*/\1/p' "$work/big.err")
rm -f "$work/out-big.jsonl"

echo
echo "DNS bulk vs dnsperf (median of $ROUNDS rounds, $ZONE_NAMES names each):"
printf '  dnsperf     %8.0f queries/s\n' "$perf"
printf '  dnsscience  %8.0f queries/s\n' "$ours"
printf '  ratio       %.2f dnsscience/dnsperf (median of the per-round ratios; target >= 1.00)\n' "$ratio"
printf '  CPU         dnsperf %s s, dnsscience %s s per %d names (medians, user + system)\n' "$(median <"$work/pcpu")" "$(median <"$work/ocpu")" "$ZONE_NAMES"
printf '  answered    %.2f%% of names in the worst dnsscience round (target 100%%)\n' "$(awk -v s="$answered" 'BEGIN { print 100*s }')"
printf '  peak RSS    %.1f MB for %d names (%d results, %s names/s; target < 100 MB)\n' "$(awk -v k="$rss_kb" 'BEGIN { print k/1024 }')" "$BIG_NAMES" "$big_lines" "$big_rate"
