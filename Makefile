# Every target makes its own virtualenv (.venv) on first use: a fresh clone needs only python3 and make.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: test lint demo bench bench-smoke docs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	touch $(STAMP)

venv: $(STAMP)

test: $(STAMP)  ## ruff and mypy --strict, then the whole suite
	$(MAKE) --no-print-directory lint
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check pepperpy tests
	$(VENV)/bin/mypy --strict pepperpy

demo: $(STAMP)  ## stream an answer: real provider when keys are in .env, else the bundled offline server
	$(PY) -m pepperpy.demo

bench: $(STAMP)  ## the benchmark against raw requests; writes docs/performance.md
	$(PY) bench/run.py

bench-smoke: $(STAMP)  ## the benchmark in a few rounds: checks it runs (CI), judges no timing
	$(PY) bench/run.py --smoke

clean:
	rm -rf $(VENV) build dist *.egg-info .mypy_cache .ruff_cache
