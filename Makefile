# Mitaka City OS — entry points. Nothing needs to be installed by hand first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint bench install clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,dev]'
	@touch $(STAMP)

install: $(STAMP)

## make run: install, create the SQLite database under ./var, load the demo data, serve on :8000
run: install
	$(BIN)/cityos db upgrade
	$(BIN)/cityos demo
	$(BIN)/cityos serve --host $(HOST) --port $(PORT)

## make test: install, start a private PostgreSQL, run the whole suite (SQLite and PostgreSQL)
test: install
	scripts/test.sh

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

## make bench: the benchmarks in benchmarks/, each printing our figure beside the peer's
bench: install
	scripts/bench.sh

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
