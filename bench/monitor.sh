#!/usr/bin/env bash
# The monitor at scale: N checks at a 1 s interval (half DNS queries to
# knotd, half HTTP GETs of bench/httptarget's /health, all on
# loopback), every result stored in SQLite as in production. Reports runs/s
# in the first minute and in steady state, scheduling lag p50/p99 (from
# dnsscience_monitor_lag_seconds), skipped runs, CPU per run and peak RSS.
# Then, for the same N, the same targets and the same 1 s interval, one
# after the other in this run: Prometheus scraping blackbox_exporter
# (bench/blackbox.bash), with probes/s, failures, CPU per probe of each
# process and their peak RSS, and the ratios between the two.
# Usage: bench/monitor.sh [BINARY]   (CHECKS="1000 5000", SECONDS_EACH=180;
# BLACKBOX=0 skips the reference run)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.bash
source bench/lib.bash
# shellcheck source=bench/blackbox.bash
source bench/blackbox.bash
bin=${1:-bin/dnsscience}
checks_list=${CHECKS:-1000 5000}
each=${SECONDS_EACH:-180}
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

cat >"$work/bench.zone" <<'ZONE'
$ORIGIN bench.test.
$TTL 300
@   SOA ns1 admin 1 3600 600 86400 300
@   NS  ns1
ns1 A   127.0.0.1
www A   127.0.0.10
ZONE
start_knotd "$work" 25353 bench.test "$work/bench.zone"
pids+=("$knot_pid")
# The HTTP target has no rate limits or connection caps (a dnsscience
# server's own protections would refuse a prober this busy).
go build -o "$work/httptarget" ./bench/httptarget
"$work/httptarget" -listen 127.0.0.1:28081 2>"$work/httptarget.log" &
pids+=($!)
wait_until $! "$work/httptarget.log" "bench/httptarget" curl -sf 127.0.0.1:28081/health

# metric NAME: the value of an unlabelled series on the monitor's /metrics.
scrape() { curl -s 127.0.0.1:28080/metrics; }
report() { # FILE0 FILE1 SECONDS [OUT]: rates and lag between two scrapes; OUT gets "runs/s CPU-us/run"
	python3 - "$@" <<'PY'
import sys, re
def parse(path):
    m = {}
    for line in open(path):
        if line.startswith('#'): continue
        k, _, v = line.rpartition(' ')
        try: m[k] = float(v)
        except ValueError: pass
    return m
a, b, secs = parse(sys.argv[1]), parse(sys.argv[2]), float(sys.argv[3])
runs = lambda m: sum(v for k, v in m.items() if k.startswith('dnsscience_monitor_runs_total'))
d = lambda k: b.get(k, 0) - a.get(k, 0)
n = runs(b) - runs(a)
buckets = sorted((float(re.search(r'le="([^"]+)"', k).group(1)), b[k] - a.get(k, 0))
                 for k in b if k.startswith('dnsscience_monitor_lag_seconds_bucket'))
def q(p):
    total = buckets[-1][1]
    for le, c in buckets:
        if c >= p * total: return le
fails = sum(d(k) for k in b if k.startswith('dnsscience_monitor_runs_total') and 'fail' in k)
cpu = 1e6*d('process_cpu_seconds_total')/max(n,1)
print(f"runs/s {n/secs:.0f}  failed {fails:.0f}  lag p50 <= {q(.5)}s p99 <= {q(.99)}s  skipped {d('dnsscience_monitor_skipped_runs_total'):.0f}"
      f"  CPU/run {cpu:.0f} us")
if len(sys.argv) > 4: open(sys.argv[4], "w").write(f"{n/secs} {cpu}\n")
PY
}

minus() { awk -v a="$1" -v b="$2" 'BEGIN {print a - b}'; }

# reference N: Prometheus + blackbox_exporter for N probes at 1 s over the
# same targets and phases as the dnsscience run.
reference() {
	local n=$1 ref="$work/ref-$1" bbport promport t1 t2 b0 b1 b2 p0 p1 p2
	mkdir -p "$ref"
	bbport=$(free_port)
	start_blackbox "$ref" "$bbport"
	pids+=("$bb_pid")
	promport=$(free_port)
	start_prometheus "$ref" "$promport" "127.0.0.1:$bbport" "$n" 127.0.0.1:25353 http://127.0.0.1:28081/health
	pids+=("$prom_pid")
	b0=$(cpu_seconds "$bb_pid") p0=$(cpu_seconds "$prom_pid")
	sleep 60
	t1=$(date +%s.%N) b1=$(cpu_seconds "$bb_pid") p1=$(cpu_seconds "$prom_pid")
	sleep $((each - 60))
	t2=$(date +%s.%N) b2=$(cpu_seconds "$bb_pid") p2=$(cpu_seconds "$prom_pid")
	bb_rss=$(peak_rss_mib "$bb_pid") prom_rss=$(peak_rss_mib "$prom_pid")
	echo "-- Prometheus $(prometheus --version 2>&1 | awk 'NR==1{print $3}') scraping blackbox_exporter $(prometheus-blackbox-exporter --version 2>&1 | awk 'NR==1{print $3}'), $n probes at 1 s, ${each} s;" \
		"peak RSS blackbox_exporter $bb_rss MiB, prometheus $prom_rss MiB"
	echo -n "first minute: "
	blackbox_window "$promport" "$t1" 60 "$(minus "$b1" "$b0")" "$(minus "$p1" "$p0")" "$ref/first"
	echo -n "steady (after the first minute): "
	blackbox_window "$promport" "$t2" $((each - 60)) "$(minus "$b2" "$b1")" "$(minus "$p2" "$p1")" "$ref/steady"
	kill "$prom_pid" "$bb_pid"
	wait "$prom_pid" "$bb_pid" 2>/dev/null || true
}

# ratios N: dnsscience against the reference, steady phase.
ratios() {
	read -r drate dcpu <"$work/dns-$1"
	read -r rrate rcpu rok rcpuok <"$work/ref-$1/steady"
	awk -v dr="$drate" -v dc="$dcpu" -v rr="$rrate" -v rc="$rcpu" -v ro="$rok" -v rk="$rcpuok" \
		-v dm="$rss" -v bm="$bb_rss" -v pm="$prom_rss" 'BEGIN {
		printf "== ratio dnsscience / (blackbox_exporter + prometheus), steady: checks/s %.0f vs %.0f (%.0f ok);", dr, rr, ro
		printf " CPU per check %.0f us vs %.0f us (x%.2f; %s us per ok probe);", dc, rc, dc / rc, rk
		printf " peak RSS %.0f MiB vs %.0f MiB (x%.2f)\n", dm, bm + pm, dm / (bm + pm)
	}'
	echo "   (dnsscience stores every result in SQLite with per-check state, history and minute/hour/day rollups;"
	echo "    Prometheus stores the probe's samples in its TSDB: different work, same checks)"
}

for n in $checks_list; do
	suite="$work/checks-$n.yaml"
	{
		echo "defaults: {interval: 1s, timeout: 2s}"
		echo "checks:"
		for i in $(seq "$n"); do
			if ((i % 2)); then
				echo "  - {name: dns $i, kind: dns, target: www.bench.test, options: {server: '127.0.0.1:25353'}}"
			else
				echo "  - {name: http $i, kind: http, target: 'http://127.0.0.1:28081/health', conditions: [status == 200]}"
			fi
		done
	} >"$suite"
	rm -rf "$work/mon"
	"$bin" serve --listen 127.0.0.1:28080 --data "$work/mon" --checks "$suite" --allow 127.0.0.0/8 --log-level warn >/dev/null 2>"$work/mon.log" &
	mon=$!
	pids+=("$mon")
	wait_until "$mon" "$work/mon.log" "the monitor" curl -sf 127.0.0.1:28080/health
	scrape >"$work/m0"
	sleep 60
	scrape >"$work/m1"
	sleep $((each - 60))
	scrape >"$work/m2"
	rss=$(peak_rss_mib "$mon")
	echo "== $n checks at 1 s, ${each} s, results stored (SQLite); peak RSS $rss MiB; load $(cut -d' ' -f1-3 /proc/loadavg)"
	echo -n "first minute: "; report "$work/m0" "$work/m1" 60
	echo -n "steady (after the first minute): "; report "$work/m1" "$work/m2" $((each - 60)) "$work/dns-$n"
	kill "$mon"; wait "$mon" 2>/dev/null || true
	[ "${BLACKBOX:-1}" = 0 ] && continue
	reference "$n"
	echo "   load $(cut -d' ' -f1-3 /proc/loadavg)"
	ratios "$n"
done
