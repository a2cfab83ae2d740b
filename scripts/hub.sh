#!/usr/bin/env bash
# Set up CityHub in .venv (first run) and start a hub on http://localhost:1026 with an
# embedded SQLite file (./cityhub-demo.db) holding the demo cities. Extra arguments go to
# `cityhub demo` (--host, --port, --seed, --no-live).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e .
# The dashboard's front-end packages, from the npm registry (package-lock.json pins them).
WEB=src/cityhub/dashboard/web
if [ ! -d "$WEB/node_modules" ] || [ "$WEB/package-lock.json" -nt "$WEB/node_modules/.package-lock.json" ]; then
  npm ci --prefix "$WEB" --no-audit --no-fund --loglevel=error
fi
exec .venv/bin/cityhub demo "$@"
