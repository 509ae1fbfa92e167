# TotalCap — the commands of the README. Everything a fresh machine needs is installed from here.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
ASSETS := src/totalcap/web/static/vendor/.stamp
PYTEST_ARGS ?=

.PHONY: install run test lint bench system-deps clean help

help:
	@echo "make run    — install if needed, migrate, load the demo, start TotalCap (Ctrl-C stops)"
	@echo "make test   — the whole suite: lint, migrations check, unit, integration and browser tests"
	@echo "make bench  — run the benchmarks and print their figures as JSON"
	@echo "make lint   — ruff and mypy"

install: $(STAMP) $(ASSETS)

$(STAMP): pyproject.toml setup.py src/hj212/_speedups.c src/totalcap/ingest/gateway/_fastrows.c
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "TotalCap needs Python 3.11, found %s" % sys.version.split()[0]'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(ASSETS): package.json package-lock.json scripts/vendor_assets.py
	@command -v npm >/dev/null || { echo "npm is needed for the front-end assets: apt-get install npm"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	$(BIN)/python scripts/vendor_assets.py
	touch $(ASSETS)

run: install
	$(BIN)/totalcap run

system-deps:
	@scripts/ensure_system_deps.sh

lint: install
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/ruff format --check src tests benchmarks scripts
	$(BIN)/mypy src/hj212 src/totalcap benchmarks

test: install system-deps lint
	DJANGO_SETTINGS_MODULE=totalcap.settings_test $(BIN)/totalcap makemigrations --check --dry-run
	$(BIN)/python -m pytest -n 2 -m "not serial" $(PYTEST_ARGS)
	$(BIN)/python -m pytest -m serial $(PYTEST_ARGS)

bench: install
	@for script in benchmarks/*.py; do \
		echo "== $$script" >&2; \
		$(BIN)/python $$script $(BENCH_ARGS) || exit 1; \
	done

clean:
	rm -rf $(VENV) node_modules src/totalcap/web/static/vendor .pytest_cache .mypy_cache .ruff_cache
