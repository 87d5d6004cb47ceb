#!/usr/bin/env bash
# Installs the Debian packages listed in deps/apt/*.list when any is missing.
# Idempotent: does nothing when everything is installed.
# Debian enables and starts a service for prometheus (on 0.0.0.0:9090) and
# prometheus-blackbox-exporter (on :9115). Nothing here uses those services:
# bench/monitor.sh starts both itself on loopback with its own config and data
# and stops them at exit. So when this script installs them it stops and
# disables the services again (where systemd runs; in containers policy-rc.d
# usually keeps them from starting at all).
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t pkgs < <(cat deps/apt/*.list | sed 's/#.*//' | awk 'NF{print $1}' | sort -u)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then sudo="sudo"; else
    echo "deps: missing Debian packages: ${missing[*]}; run as root to install them" >&2; exit 0
  fi
fi
echo "deps: installing ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
if [ -d /run/systemd/system ]; then
  for p in "${missing[@]}"; do
    case $p in
      prometheus | prometheus-blackbox-exporter) $sudo systemctl disable --now "$p.service" >/dev/null 2>&1 || true ;;
    esac
  done
fi
