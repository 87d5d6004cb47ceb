# The reference side of bench/monitor.sh: Prometheus scraping Debian's
# blackbox_exporter for the same targets at the same rate. Sourced, not run
# (make bench runs bench/*.sh; this file has no .sh suffix).
#
# Both listen on 127.0.0.1 only, with their own config and data in the
# caller's directory; the caller stops them (trap). Neither phones home:
# Prometheus and blackbox_exporter have no update checks or usage reports,
# and the config has no remote_write, alerting or rule files.

# start_blackbox DIR PORT DNS_SERVER: blackbox_exporter on 127.0.0.1:PORT with
# a "dns" module (A www.bench.test over UDP, the target is the server's
# address) and "http_2xx" (GET, status 200). Sets bb_pid.
start_blackbox() {
	local dir=$1 port=$2
	cat >"$dir/blackbox.yml" <<'YML'
modules:
  dns:
    prober: dns
    timeout: 2s
    dns:
      query_name: www.bench.test
      query_type: A
      transport_protocol: udp
      preferred_ip_protocol: ip4
      ip_protocol_fallback: false
  http_2xx:
    prober: http
    timeout: 2s
    http:
      method: GET
      valid_status_codes: [200]
      preferred_ip_protocol: ip4
      ip_protocol_fallback: false
YML
	prometheus-blackbox-exporter --config.file="$dir/blackbox.yml" \
		--web.listen-address="127.0.0.1:$port" --log.level=warn 2>"$dir/blackbox.log" &
	bb_pid=$!
	wait_until "$bb_pid" "$dir/blackbox.log" "blackbox_exporter" curl -sf "http://127.0.0.1:$port/metrics"
}

# start_prometheus DIR PORT BLACKBOX N DNS_SERVER HTTP_URL: Prometheus on
# 127.0.0.1:PORT, data in DIR/data, scraping N blackbox probes every second
# (odd ones dns against DNS_SERVER, even ones http_2xx of HTTP_URL, as
# bench/monitor.sh numbers its checks). Each probe is its own target (a
# "check" label keeps identical addresses apart), relabelled the usual way:
# __param_target = the address, __address__ = BLACKBOX. The scrape timeout
# cannot exceed the 1 s interval, so blackbox gets 1 s - 0.5 s offset.
# Sets prom_pid.
start_prometheus() {
	local dir=$1 port=$2 bb=$3 n=$4 dns=$5 url=$6 i job module target
	{
		echo "global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1m}"
		echo "scrape_configs:"
		for job in dns http; do
			module=dns target=$dns
			[ "$job" = http ] && module=http_2xx target=$url
			cat <<YML
  - job_name: $job
    metrics_path: /probe
    params: {module: [$module]}
    relabel_configs:
      - {source_labels: [__address__], target_label: __param_target}
      - {source_labels: [__param_target], target_label: instance}
      - {target_label: __address__, replacement: '$bb'}
    static_configs:
YML
			for i in $(seq "$n"); do
				if { [ "$job" = dns ] && ((i % 2)); } || { [ "$job" = http ] && ! ((i % 2)); }; then
					echo "      - {targets: ['$target'], labels: {check: '$job $i'}}"
				fi
			done
		done
	} >"$dir/prometheus.yml"
	prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/data" \
		--web.listen-address="127.0.0.1:$port" --log.level=warn 2>"$dir/prometheus.log" &
	prom_pid=$!
	wait_until "$prom_pid" "$dir/prometheus.log" "prometheus" curl -sf "http://127.0.0.1:$port/-/ready"
}


# cpu_seconds PID: user + system CPU time of PID so far, from /proc/PID/stat.
cpu_seconds() {
	local stat
	stat=$(<"/proc/$1/stat")
	stat=${stat##*) } # the command name may hold spaces; fields start after ")"
	awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f\n", ($12 + $13) / hz}' <<<"$stat"
}

# peak_rss_mib PID: VmHWM of PID in MiB.
peak_rss_mib() { awk '/VmHWM/ {printf "%.0f\n", $2 / 1024}' "/proc/$1/status"; }

# prom_query PORT TIME EXPR: the value of an instant query's single result
# (0 when empty).
prom_query() {
	curl -sf -G "http://127.0.0.1:$1/api/v1/query" --data-urlencode "time=$2" --data-urlencode "query=$3" |
		python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else 0)'
}

# blackbox_window PORT T W CPU_BB CPU_PROM OUT: one phase of the reference
# run, the W seconds up to unix time T: probes are the `up` samples
# Prometheus stored (one per scrape, that is one per probe), failed scrapes
# those with up 0 (no probe result stored: blackbox did not answer within
# the scrape timeout), ok the probes stored with probe_success 1; CPU is the
# delta of each process's CPU time (CPU_BB, CPU_PROM seconds) per probe, and
# the two together per ok probe. Prints one line and writes
# "probes_per_s cpu_us_per_probe ok_per_s cpu_us_per_ok" to OUT (n/a when
# no probe succeeded).
blackbox_window() {
	local port=$1 t=$2 w=$3 bb=$4 prom=$5 out=$6 probes up_fail probe_fail ok samples
	probes=$(prom_query "$port" "$t" "sum(count_over_time(up[${w}s]))")
	up_fail=$(prom_query "$port" "$t" "sum(count_over_time(up[${w}s])) - sum(sum_over_time(up[${w}s]))")
	probe_fail=$(prom_query "$port" "$t" "sum(count_over_time(probe_success[${w}s])) - sum(sum_over_time(probe_success[${w}s]))")
	ok=$(prom_query "$port" "$t" "sum(sum_over_time(probe_success[${w}s]))")
	samples=$(prom_query "$port" "$t" "sum(sum_over_time(scrape_samples_scraped[${w}s]))")
	python3 - "$probes" "$up_fail" "$probe_fail" "$ok" "$samples" "$w" "$bb" "$prom" "$out" <<'PY'
import sys
probes, up_fail, probe_fail, ok, samples, w, bb, prom = map(float, sys.argv[1:9])
n = max(probes, 1)
per_ok = f"{1e6*(bb+prom)/ok:.0f}" if ok >= 1 else "n/a"
print(f"probes/s {probes/w:.0f}  failed scrapes {up_fail:.0f}  probe_success 0: {probe_fail:.0f}  ok/s {ok/w:.0f}"
      f"  samples/scrape {samples/n:.0f}  CPU/probe blackbox {1e6*bb/n:.0f} us"
      f" + prometheus {1e6*prom/n:.0f} us = {1e6*(bb+prom)/n:.0f} us  (per ok probe {per_ok} us)")
open(sys.argv[9], "w").write(f"{probes/w} {1e6*(bb+prom)/n} {ok/w} {per_ok}\n")
PY
}
