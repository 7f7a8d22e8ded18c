#!/usr/bin/env bash
# Create .venv (if missing) and install router in editable mode with its dev tools, and make
# sure a redis-server binary exists (the tests start their own on free ports).
# Needs python3 >= 3.11 with venv, and access to PyPI (and Debian's packages when
# redis-server is missing).
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
  echo "setup: installing router and its dev tools into .venv" >&2
  # The project was once installed under the distribution name "router" (which on PyPI is
  # another project); a venv made then still holds it: drop it, or both would own `router`.
  if .venv/bin/python -m pip show -q router >/dev/null 2>&1; then
    .venv/bin/python -m pip uninstall -q -y router >/dev/null 2>&1 || true
  fi
  # The build backend's deprecation chatter is kept out of sight unless the install fails.
  if ! .venv/bin/python -m pip install -q -e ".[dev]" > .venv/pip-install.log 2>&1; then
    cat .venv/pip-install.log >&2
    exit 1
  fi
  touch "$stamp"
fi
if ! command -v redis-server >/dev/null 2>&1; then
  echo "setup: redis-server not found; installing it (Debian package redis-server)" >&2
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq redis-server >/dev/null
  # The package may start a service on 6379; the tests use their own ports, so stop it.
  ($SUDO service redis-server stop || true) >/dev/null 2>&1
fi
