#!/usr/bin/env bash
# The whole suite: lint and Django checks, then pytest on PostGIS, then on SpatiaLite.
# Expects DATABASE_URL (postgis://) and CELERY_BROKER_URL from scripts/services.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
: "${DATABASE_URL:?run through 'make test' (it starts PostGIS and Redis)}"

echo "== lint, import contracts and Django checks"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/lint-imports --no-cache
$PY scripts/import_cycles.py
$PY manage.py check --fail-level WARNING
$PY manage.py makemigrations --check --dry-run

echo "== bandit -ll (offline; pip-audit needs PyPI's JSON API: run 'make audit')"
.venv/bin/bandit -c pyproject.toml -ll -q -r .

echo "== pytest on PostgreSQL + PostGIS"
$PY -m pytest "$@"

echo "== pytest on SpatiaLite"
env -u DATABASE_URL $PY -m pytest "$@"
