#!/usr/bin/env bash
# Builds the web UI bundle (web/ → internal/server/webdist, git-ignored),
# which the Go server embeds. Installs the npm packages from the lockfile
# first when node_modules is missing or older than the lockfile. Install
# scripts are not run (esbuild's binary comes as an npm package of its own).
set -euo pipefail
cd "$(dirname "$0")/../web"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	echo "web: node and npm are needed to build the web UI (Node.js 20 or later)" >&2
	exit 1
fi
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
	echo "web: npm ci" >&2
	SCARF_ANALYTICS=false npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
fi
node build.mjs
