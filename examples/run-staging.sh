#!/usr/bin/env bash
# Runs examples/staging.yaml against a miniature staging on loopback
# (examples/stagingservers): DNS on 127.0.0.1-3, HTTPS/WebSocket on
# 127.0.0.1 and 127.0.0.2 (the "load balancer"). Extra arguments go to
# `dnsscience check`, e.g. --min-success 90 or --output junit.
# Usage: examples/run-staging.sh [BINARY] [check flags...]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-bin/dnsscience}
[ $# -gt 0 ] && shift
if [ ! -x "$bin" ]; then
  mkdir -p bin && go build -o "$bin" ./cmd/dnsscience
fi
work=$(mktemp -d)
go build -o "$work/stagingservers" ./examples/stagingservers
"$work/stagingservers" -dir "$work" -env "$work/env" &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do
  [ -s "$work/env" ] && break
  kill -0 "$pid" 2>/dev/null || { echo "stagingservers failed to start" >&2; exit 3; }
  sleep 0.1
done
# shellcheck disable=SC1091
source "$work/env"
# Host names resolve through the loopback DNS server, never the system's.
"$bin" check examples/staging.yaml --resolver "$RESOLVER_A" "$@"
