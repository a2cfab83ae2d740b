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
exec .venv/bin/cityhub demo "$@"
