#!/usr/bin/env bash
# The main job on the built-in local default: no API keys, no network. Then the gateway
# (router serve --sandbox) answering a curl and an OpenAI SDK call.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/router demo "$@"
echo
bash scripts/demo_gateway.sh
