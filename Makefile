# Two commands for a fresh clone: `make run` and `make test`. Each creates .venv on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint fmt clean-data

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m genflow.stack

test: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m mypy
	$(PY) -m pytest

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

fmt: $(STAMP)
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

.PHONY: bench chaos

# Latency, throughput, webhook, cost and memory beside their floors, on a fresh stack (docs/performance.md).
bench: $(STAMP)
	$(PY) -m bench

# Generations under faults, worker kills and a PostgreSQL restart, then 5,000 hostile webhook requests.
chaos: $(STAMP)
	$(PY) -m bench.chaos

# Forget every balance and workflow of the embedded stack.
clean-data:
	rm -rf .data
