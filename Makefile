# DealFinder: `make demo` to try it, `make test` to check it. Both set everything up first.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements/base.txt requirements/dev.txt package-lock.json | md5sum | cut -c1-12)
ARGS ?=

.PHONY: help setup services services-stop demo test lint format bench audit

help:
	@echo "make demo           set up, load the sample county through the real pipeline, serve http://127.0.0.1:8000/"
	@echo "make test           set up, start PostGIS + Redis, run the whole suite on PostGIS and SpatiaLite"
	@echo "make setup          system packages, .venv/ (an interpreter that can load SpatiaLite), Python packages"
	@echo "make services       start (or reuse) PostgreSQL+PostGIS and Redis; eval \"\$$(make -s services)\""
	@echo "make services-stop  stop them"
	@echo "make lint           ruff check + ruff format --check + import contracts (lint-imports) + Django checks"
	@echo "make bench          benchmark on PostGIS: 100,000 parcels / 2,000 buyers -> var/benchmark-<N>.json (ARGS=\"--parcels 1000000\")"
	@echo "make audit          pip-audit of the locked requirements (needs PyPI's JSON API) + bandit -ll"

setup: $(STAMP)

$(STAMP): requirements/base.txt requirements/dev.txt package-lock.json scripts/system-packages.sh scripts/find-python.sh
	@bash scripts/system-packages.sh
	@if [[ ! -x $(PY) ]] || ! $(PY) -c 'import sqlite3; sqlite3.connect(":memory:").enable_load_extension(True)' 2>/dev/null; then \
		rm -rf $(VENV); \
		interpreter=$$(bash scripts/find-python.sh) && echo "Creating $(VENV) with $$interpreter" >&2 && \
		$$interpreter -m venv $(VENV); \
	fi
	@$(PY) -m pip install -q --disable-pip-version-check --require-hashes -r requirements/dev.txt >&2
	@if [[ -f package.json ]] && command -v npm >/dev/null; then npm ci --no-audit --no-fund --loglevel=error >&2; \
	elif [[ -f package.json ]]; then echo "npm not found: contract tests against Prism will be skipped" >&2; fi
	@rm -f $(VENV)/.installed-* && touch $@

services: setup
	@bash scripts/services.sh start

services-stop:
	@bash scripts/services.sh stop

demo: setup
	$(PY) manage.py demo $(ARGS)

test: setup
	@set -e; exports=$$(bash scripts/services.sh start); eval "$$exports"; bash scripts/test.sh

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache
	$(PY) scripts/import_cycles.py
	$(PY) manage.py check --fail-level WARNING
	$(PY) manage.py makemigrations --check --dry-run

format: setup
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

audit: setup
	$(VENV)/bin/pip-audit -r requirements/dev.txt --disable-pip --require-hashes --strict --progress-spinner off
	$(VENV)/bin/bandit -c pyproject.toml -ll -q -r .

bench: setup
	@set -e; exports=$$(bash scripts/services.sh start); eval "$$exports"; \
	export CACHE_URL=$${CACHE_URL:-$${CELERY_BROKER_URL%/*}/1}; \
	parcels=$$(echo "$(ARGS)" | sed -n 's/.*--parcels[= ]\([0-9]*\).*/\1/p'); parcels=$${parcels:-100000}; \
	$(PY) manage.py benchmark --parcels 100000 --buyers 2000 $(ARGS) --json var/benchmark-$$parcels.json
