# The two commands of the README are `make demo` and `make test`; the rest is for developers.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: demo test lint contracts bench prefect-server clean

# Installs exactly the versions in requirements.lock (regenerate it with
# `$(BIN)/pip freeze --exclude-editable > requirements.lock` after changing pyproject.toml).
$(INSTALLED): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --constraint requirements.lock --editable '.[dev]'
	touch $(INSTALLED)

demo: $(INSTALLED)
	$(BIN)/crossborder demo

# Lint and types first: they fail in seconds where the suite takes minutes.
test: $(INSTALLED)
	$(BIN)/ruff check crossborder flows tests bench contracts
	$(BIN)/mypy
	$(BIN)/pytest

lint: $(INSTALLED)
	$(BIN)/ruff check crossborder flows tests bench contracts
	$(BIN)/ruff format --check crossborder flows tests bench contracts
	$(BIN)/mypy

contracts: $(INSTALLED)
	$(BIN)/python contracts/generate.py

bench: $(INSTALLED)
	$(BIN)/python bench/exchange.py
	$(BIN)/python bench/cli.py

# The long-lived Prefect server the nodes' flows report to (see flows/server.py).
prefect-server: $(INSTALLED)
	$(BIN)/python -m flows.server

clean:
	rm -rf $(VENV) demo-data
