#!/usr/bin/env bash
# Side-by-side: `dnsscience http` vs curl and `dnsscience cert` vs
# openssl s_client, N sequential runs each against a loopback HTTPS server
# (examples/stagingservers). Prints wall time per run and the ratio.
# Usage: bench/probe.sh BINARY [N]
set -euo pipefail
bin=${1:?usage: bench/probe.sh BINARY [N]}
n=${2:-100}
cd "$(dirname "$0")/.."
work=$(mktemp -d)
go build -o "$work/stagingservers" ./examples/stagingservers
"$work/stagingservers" -dir "$work" -env "$work/env" &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do [ -s "$work/env" ] && break; sleep 0.1; done
# shellcheck disable=SC1091
source "$work/env"
host=api-staging.example.test
url="https://$host:$STAGING_PORT/health"

ms() { date +%s%N; }
timeit() { # name command...
  local start end
  start=$(ms)
  for _ in $(seq "$n"); do "$@" >/dev/null 2>&1 || { echo "$1 failed" >&2; exit 1; }; done
  end=$(ms)
  echo $(( (end - start) / n / 1000 ))
}
report() { # label ours theirs peer
  awk -v l="$1" -v a="$2" -v b="$3" -v p="$4" 'BEGIN { printf "%-28s dnsscience %7.2f ms/run   %-8s %7.2f ms/run   ratio %.2f\n", l, a/1000, p, b/1000, a/b }'
}

ours=$(timeit "$bin" http "$url" --connect-to 127.0.0.1 --ca "$STAGING_CA" --fail)
theirs=$(timeit curl -sf -o /dev/null --cacert "$STAGING_CA" --resolve "$host:$STAGING_PORT:127.0.0.1" "$url")
report "HTTPS GET (n=$n)" "$ours" "$theirs" curl

if command -v openssl >/dev/null; then
  ours=$(timeit "$bin" cert "$host:$STAGING_PORT" --connect-to 127.0.0.1 --ca "$STAGING_CA")
  theirs=$(timeit sh -c "openssl s_client -connect 127.0.0.1:$STAGING_PORT -servername $host -CAfile $STAGING_CA -verify_return_error </dev/null")
  report "TLS handshake + chain (n=$n)" "$ours" "$theirs" openssl
else
  echo "openssl not installed: skipping the cert comparison"
fi
