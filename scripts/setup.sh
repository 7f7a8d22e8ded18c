#!/usr/bin/env bash
# Create .venv (if missing) and install router in editable mode with its dev tools.
# Needs only python3 >= 3.11 with venv, and access to PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip
fi
# Reinstall only when the declared dependencies changed since the last install.
stamp=.venv/.router-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install -q -e ".[dev]"
  touch "$stamp"
fi
