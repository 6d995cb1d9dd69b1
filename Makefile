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
	$(VENV)/bin/ruff check pepperpy tests examples bench
	$(VENV)/bin/mypy --strict pepperpy

demo: $(STAMP)  ## stream an answer: real provider when keys are in .env, else the bundled offline server
	$(PY) -m pepperpy.demo

bench: $(STAMP)  ## the benchmark against raw requests; writes docs/performance.md
	$(PY) bench/run.py

bench-smoke: $(STAMP)  ## the benchmark in a few rounds: checks it runs (CI), judges no timing
	$(PY) bench/run.py --smoke

docs:  ## the documentation site in site/, when mkdocs is installed in $(VENV); else says how to install it
	@if [ -x "$(VENV)/bin/mkdocs" ]; then \
		$(VENV)/bin/mkdocs build --site-dir site && echo "docs: open site/index.html"; \
	else \
		echo "make docs: mkdocs is not installed in $(VENV), so no site was built."; \
		echo "  Install it with:  $(VENV)/bin/pip install mkdocs   (run 'make venv' first if $(VENV) is missing)"; \
		echo "  The Markdown pages in docs/ read fine without it."; \
	fi

clean:
	rm -rf $(VENV) build dist *.egg-info .mypy_cache .ruff_cache
