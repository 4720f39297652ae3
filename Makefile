# Two commands for a fresh clone: `make run` and `make test`. Each creates .venv on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint fmt lock clean-data

# Exact versions from the lock (requirements/dev.txt, which pins prod.txt's too), then our own code.
$(STAMP): pyproject.toml requirements/prod.txt requirements/dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements/dev.txt
	$(PY) -m pip install --quiet --no-deps -e .
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

# Re-resolve the lock after changing pyproject.toml's dependencies (add --upgrade to PIPCOMPILE for newer ones).
PIPCOMPILE ?=
LOCK_FLAGS := --quiet --no-emit-index-url --no-emit-find-links --strip-extras $(PIPCOMPILE)
lock:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet pip-tools
	$(VENV)/bin/pip-compile $(LOCK_FLAGS) --output-file=requirements/prod.txt pyproject.toml
	$(VENV)/bin/pip-compile $(LOCK_FLAGS) --constraint=requirements/prod.txt --extra=dev \
		--output-file=requirements/dev.txt pyproject.toml

.PHONY: bench chaos chaos-replicas upgrade

# Latency, throughput, webhook, cost and memory beside their floors, on a fresh stack (docs/performance.md).
bench: $(STAMP)
	$(PY) -m bench

# Generations under faults, worker kills and a PostgreSQL restart, then 5,000 hostile webhook requests.
chaos: $(STAMP)
	$(PY) -m bench.chaos

# The same on two of every process behind nginx: replica kills, Temporal and PostgreSQL restarts, a cut link.
chaos-replicas: $(STAMP)
	$(PY) -m bench.chaos --replicas 2

# A rolling upgrade with a workflow change: 100 generations on version A, each worker replica replaced by B.
upgrade: $(STAMP)
	$(PY) -m bench.upgrade

# Forget every balance and workflow of the embedded stack.
clean-data:
	rm -rf .data
