# Two commands on a fresh machine with python3: `make serve` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: install serve test browser lint typecheck format lint-js realdata bench bench-ui clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

serve: $(STAMP)
	$(BIN)/nrw-sites serve --host $(HOST) --port $(PORT)

# `make test` includes tests/browser: they run when chromium is on PATH and skip with the reason
# otherwise; with CI set they are required (fail instead of skip).
# It runs on TEST_WORKERS pytest-xdist processes (CI has 2 cores; `make test TEST_WORKERS=0` runs
# in one process). --dist loadfile keeps each test file (and all of tests/browser) on one
# worker, so a module-scoped fixture (a demo build, a server) is set up once; the files go out
# slowest folder first (--no-loadscope-reorder keeps tests/conftest.py's order); the demo
# builds themselves are shared by the workers (tests/conftest.py, demo_cache).
TEST_WORKERS ?= 2
PARALLEL := -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder
test: $(STAMP)
	$(BIN)/python -m pytest -q $(PARALLEL)

# Only the browser tests (Debian chromium via playwright against a live server).
browser: $(STAMP)
	$(BIN)/python -m pytest -q -m browser tests/browser

# ruff lint (with mccabe: no function over complexity 15), the ruff format check, mypy and the
# file-length check (no .py/.js file over 500 lines in geo/ layers/ api/ maps/, vendor excluded).
# CI runs this; `make format` fixes the formatting.
lint: $(STAMP)
	$(BIN)/ruff check geo layers api maps tests bench tools
	$(BIN)/ruff format --check geo layers api maps tests bench tools
	$(BIN)/mypy
	$(BIN)/python tools/check_size.py

# ESLint over the UI's JavaScript and its node tests (dev-only, pinned in package.json).
lint-js: node_modules/.package-lock.json
	npx --no-install eslint maps/static/js tests/js

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

# mypy alone over geo/ layers/ api/ maps/ tools/ (configuration in pyproject.toml, [tool.mypy]).
typecheck: $(STAMP)
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format geo layers api maps tests bench tools

realdata: $(STAMP)
	NRW_SITES_REQUIRE_REALDATA=1 $(BIN)/python -m pytest -q -m realdata

bench: $(STAMP)
	$(BIN)/python bench/build.py
	$(BIN)/python bench/score.py

# UI benchmark in headless chromium on the 50,000-site demo (reuses /tmp/bt-bench-50000).
bench-ui: $(STAMP)
	$(BIN)/python bench/ui.py --reuse

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
