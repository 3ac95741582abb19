# Every target sets up what it needs on a fresh machine: a .venv with awda and its tools.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck unit bench fuzz clean

$(STAMP): pyproject.toml scripts/system-packages
	scripts/system-packages
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/awda demo

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest

test: lint typecheck unit

# Schemathesis against a live app on 127.0.0.1 (docs/fuzz.md); FUZZ_MAX_EXAMPLES, FUZZ_SECONDS, FUZZ_ENGINE.
fuzz: $(STAMP)
	$(BIN)/python -m tests.fuzz.run

bench: $(STAMP)
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/convoys.py
	$(BIN)/python bench/survival.py
	$(BIN)/python bench/pages.py

clean:
	rm -rf $(VENV) awda-data .pytest_cache .mypy_cache .ruff_cache
