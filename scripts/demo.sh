#!/usr/bin/env bash
# The main job on the built-in local default: no API keys, no network.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/router demo "$@"
