#!/usr/bin/env bash
# The monitor at scale: N checks at a 1 s interval (half DNS queries to
# knotd, half HTTP GETs of another dnsscience server's /health, all on
# loopback), every result stored in SQLite as in production. Reports runs/s
# in the first minute and in steady state, scheduling lag p50/p99 (from
# dnsscience_monitor_lag_seconds), skipped runs, CPU per run and peak RSS.
# Usage: bench/monitor.sh [BINARY]   (CHECKS="1000 5000", SECONDS_EACH=180)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.bash
source bench/lib.bash
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
"$bin" serve --listen 127.0.0.1:28081 --data "$work/target" >/dev/null 2>&1 &
pids+=($!)
for _ in $(seq 100); do curl -sf 127.0.0.1:28081/health >/dev/null && break; sleep 0.1; done

# metric NAME: the value of an unlabelled series on the monitor's /metrics.
scrape() { curl -s 127.0.0.1:28080/metrics; }
report() { # FILE0 FILE1 SECONDS: rates and lag between two scrapes
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
print(f"runs/s {n/secs:.0f}  failed {fails:.0f}  lag p50 <= {q(.5)}s p99 <= {q(.99)}s  skipped {d('dnsscience_monitor_skipped_runs_total'):.0f}"
      f"  CPU/run {1e6*d('process_cpu_seconds_total')/max(n,1):.0f} us")
PY
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
	for _ in $(seq 100); do curl -sf 127.0.0.1:28080/health >/dev/null && break; sleep 0.1; done
	scrape >"$work/m0"
	sleep 60
	scrape >"$work/m1"
	sleep $((each - 60))
	scrape >"$work/m2"
	rss=$(awk '/VmHWM/ {print $2 / 1024 " MiB"}' "/proc/$mon/status")
	echo "== $n checks at 1 s, ${each} s, results stored (SQLite); peak RSS $rss"
	echo -n "first minute: "; report "$work/m0" "$work/m1" 60
	echo -n "steady (after the first minute): "; report "$work/m1" "$work/m2" $((each - 60))
	kill "$mon"; wait "$mon" 2>/dev/null || true
done
