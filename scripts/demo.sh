#!/usr/bin/env bash
# The demo `make run` ends with: a small DNS world on loopback served by
# Debian's knotd (a root on 127.0.0.10, test. on .11, example.test. on .12
# and .13 — whose serials and www answers differ, on purpose), and
# dnsscience dig, --trace --all-servers, propagation and bulk lookups
# against it. Nothing leaves the machine.
set -euo pipefail
bin=$(realpath "${1:-bin/dnsscience}")
here=$(cd "$(dirname "$0")" && pwd)
command -v knotd >/dev/null || { echo "demo: knotd is missing; run 'make deps' as root" >&2; exit 1; }
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
port=$(( 20000 + RANDOM % 20000 ))

# serve IP ZONE-NAME FILE: one knotd for one zone on IP:port.
serve() {
  local ip=$1 zone=$2 file=$3 dir="$work/$1"
  mkdir -p "$dir"
  cp "$file" "$dir/zone"
  local user=""
  [ "$(id -u)" -eq 0 ] && user="    user: root"
  cat >"$dir/knot.conf" <<CONF
server:
    listen: $ip@$port
    rundir: $dir
$user
database:
    storage: $dir/db
zone:
  - domain: $zone
    file: $dir/zone
    storage: $dir
log:
  - target: stderr
    any: error
CONF
  knotd -c "$dir/knot.conf" 2>>"$work/knot.log" &
  pids+=($!)
}
serve 127.0.0.10 . "$here/demo/root.zone"
serve 127.0.0.11 test. "$here/demo/test.zone"
sed -e 's/SERIAL/2026112201/' -e 's/WWW/192.0.2.80/' "$here/demo/example.zone" >"$work/ex1.zone"
sed -e 's/SERIAL/2026112202/' -e 's/WWW/192.0.2.81/' "$here/demo/example.zone" >"$work/ex2.zone"
serve 127.0.0.12 example.test. "$work/ex1.zone"
serve 127.0.0.13 example.test. "$work/ex2.zone"
for _ in $(seq 50); do "$bin" dig @127.0.0.13:$port example.test SOA --short --timeout 200ms --tries 1 >/dev/null 2>&1 && break; sleep 0.1; done

run() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@" || true; }
cd "$work"
run "$bin" dig @127.0.0.12:$port example.test MX
run "$bin" dig @127.0.0.12:$port api.example.test --short
run "$bin" dig --trace --all-servers --roots 127.0.0.10:$port www.example.test
cat >"$work/resolvers.yaml" <<YAML
- {name: ns1, operator: demo, ipv4: [127.0.0.12], port: $port, location: {city: Paris, country: FR, lat: 48.86, lon: 2.35}}
- {name: ns2, operator: demo, ipv4: [127.0.0.13], port: $port, location: {city: Tokyo, country: JP, lat: 35.68, lon: 139.69}}
YAML
run "$bin" propagation www.example.test A --resolvers "$work/resolvers.yaml" --expect 192.0.2.81
printf 'www.example.test\napi.example.test\nmail.example.test\nnope.example.test\n' >"$work/names.txt"
run "$bin" dig -f "$work/names.txt" A @127.0.0.12:$port
echo
echo "demo: done. Try: $bin dig --help"
