# Every target makes its own virtualenv (.venv) on first use: a fresh clone needs only python3 and make.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: test lint demo bench bench-smoke docs clean redis-server catalog

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[dev,redis]"
	touch $(STAMP)

venv: $(STAMP)

test: $(STAMP) redis-server  ## ruff, mypy --strict and the import layers, then the whole suite
	$(MAKE) --no-print-directory lint
	$(PY) -m pytest

# The shared-state tests run a real redis-server (tests/shared/redis_server.py). Installed here when missing:
# Debian's package as root (apt lists may be stale on a fresh machine: update, then try again), else a hint;
# without it those tests fail and say how to get it.
redis-server:
	@if command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ] || [ -n "$$PEPPERPY_TEST_REDIS_SERVER" ]; then \
		exit 0; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "make: installing redis-server (apt-get) for the shared-state tests"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get install -y -qq redis-server >/dev/null 2>&1 || \
		{ apt-get update -qq && apt-get install -y -qq redis-server >/dev/null; } || \
		echo "make: could not install redis-server; the shared-state tests will fail until it is installed"; \
	else \
		echo "make: redis-server is missing and cannot be installed here (not root, or no apt-get): install it"; \
		echo "  (apt-get install redis-server, brew install redis, ...) or set PEPPERPY_TEST_REDIS_SERVER to its"; \
		echo "  binary; the shared-state tests fail until then"; \
	fi

lint: $(STAMP)
	$(VENV)/bin/ruff check pepperpy tests examples bench
	$(VENV)/bin/mypy --strict pepperpy
	$(VENV)/bin/lint-imports  # the layer order and no cycles (setup.cfg [importlinter]); docs/architecture.md

catalog: $(STAMP)  ## after editing catalog/*.yaml: regenerate pepperpy/catalog/packed.json (a test fails while it is stale)
	$(PY) -m pepperpy.catalog

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
