# Two commands: `make run` and `make test`. Each creates .venv when missing and installs what it needs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck bench browser clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

run: $(STAMP)
	$(VENV)/bin/oneprice demo

test: $(STAMP) browser
	bash scripts/test.sh

lint: $(STAMP)
	$(VENV)/bin/ruff check oneprice tests bench
	$(VENV)/bin/ruff format --check oneprice tests bench

typecheck: $(STAMP)
	$(VENV)/bin/mypy

bench: $(STAMP)
	$(PY) -m pip install -q -e '.[dev,bench]'

# Headless Chromium for the dashboard's browser test; the test skips with a message where it is absent.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || echo "NOTE: could not install chromium; the browser test will be skipped"; }

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
