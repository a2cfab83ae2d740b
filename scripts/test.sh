#!/usr/bin/env bash
# Run the whole test suite: lint (ruff), types (mypy), then pytest on SQLite and PostgreSQL.
# PostgreSQL + PostGIS comes from CITYHUB_TEST_DATABASE_URL (default: the local server);
# set CITYHUB_TEST_REQUIRE_POSTGRES=1 to fail rather than skip when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
# The dashboard's front-end packages, from the npm registry (package-lock.json pins them).
WEB=src/cityhub/dashboard/web
if [ ! -d "$WEB/node_modules" ] || [ "$WEB/package-lock.json" -nt "$WEB/node_modules/.package-lock.json" ]; then
  npm ci --prefix "$WEB" --no-audit --no-fund --loglevel=error
fi
# The PyPI NGSI-LD client the federation interop test drives: its own venv (it pins httpx<0.24).
if [ ! -x .venv-interop/bin/python ]; then
  "$PYTHON" -m venv .venv-interop
  .venv-interop/bin/python -m pip install --quiet --disable-pip-version-check 'ngsildclient==0.5.2'
fi
.venv/bin/ruff check src tests bench
.venv/bin/ruff format --check src tests bench
.venv/bin/mypy src
.venv/bin/python -m pytest "$@"
