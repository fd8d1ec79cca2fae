#!/usr/bin/env bash
# `npm start`: installs whatever is missing, builds, and starts the embedded default
# (SCAIGRID_MODE=all, SQLite and local storage under $SCAIBUNKER_DATA_DIR).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/scripts/lib.sh"

ensure_apt_packages ca-certificates python3 make g++
ensure_node_workspace "$root"
bash "$root/scripts/ensure-guest.sh"
cd "$root"
exec node packages/cli/bin/scaibunker.js serve
