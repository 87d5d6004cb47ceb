#!/usr/bin/env bash
# The demo `make run` ends with (replaced by the server once it exists).
set -euo pipefail
bin=${1:-bin/dnsscience}
"$bin" --version
