#!/usr/bin/env bash
# Every check and test: lint, format, types, the import layers, validation of configs/, and
# the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/lint-imports --no-cache
.venv/bin/router validate configs/*.yaml
.venv/bin/python -m pytest -q "$@"
