# Expert SPRO — set-up, run, test. `make run` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
SPRO := $(VENV)/bin/spro
HOST ?= 127.0.0.1
PORT ?= 8000
# Extra official sources (files or folders) for `make run` / `make index`; the embedded directory
# (knowledge/data/directory) already gives local contacts out of the box.
SOURCES ?=

.PHONY: setup run index test lint bench bench-quick clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	# The CPU build of torch must come first, or sentence-transformers pulls a CUDA build of several GB.
	$(PIP) install --quiet torch==2.13.0
	$(PIP) install --quiet -e ".[st,dev]"
	touch $@

setup: $(VENV)/.installed

# axe-core (npm) for the widget's accessibility tests, pinned by web/package-lock.json.
WEB_TEST_TOOLS := web/node_modules/axe-core/axe.min.js
$(WEB_TEST_TOOLS): web/package.json web/package-lock.json
	npm ci --prefix web --no-audit --no-fund
	touch $@

index: setup
	$(SPRO) ingest $(foreach s,$(SOURCES),--source $(s))

run: setup
	$(SPRO) serve --host $(HOST) --port $(PORT) --build-if-missing $(foreach s,$(SOURCES),--source $(s))

test: setup $(WEB_TEST_TOOLS)
	$(PY) -m pytest $(PYTEST_ARGS)

bench: setup
	$(PY) -m bench.all

bench-quick: setup
	$(PY) -m bench.all --quick

lint: setup
	$(VENV)/bin/ruff check assistant knowledge ingest api web bench tests
	$(VENV)/bin/mypy

clean:
	rm -rf var .pytest_cache
