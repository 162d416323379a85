# Fine-tuning pretrained models in PyTorch: the two commands are `make lab` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# nbgrader runs `alembic` by name: the venv's bin/ must come first on PATH.
export PATH := $(abspath $(BIN)):$(PATH)
STAMP := $(VENV)/.installed
# The notebooks use the `python3` kernel: inside the venv that is the venv's own Python
# (ipykernel's built-in kernelspec), so JupyterLab started by `make lab` needs no extra kernel.
NBVAL := --nbval-lax --nbval-current-env --nbval-cell-timeout=600 --nbval-sanitize-with tests/nbval_sanitize.cfg
PYTEST_ARGS ?=

.PHONY: setup lab test test-unit test-notebooks bench release autograde feedback browser-deps clean

setup: $(STAMP)

# Rebuild the venv only when the dependency list changes: quick and idempotent otherwise.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

lab: setup
	$(BIN)/jupyter lab --ServerApp.root_dir=notebooks $$( [ "$$(id -u)" = 0 ] && echo --allow-root ) $(LAB_ARGS)

# Everything: unit tests, quizzes, grading end to end, the browser test, then every lesson
# executed by nbval (cells marked NBVAL_CHECK_OUTPUT are compared with their stored output).
test: setup browser-deps
	$(BIN)/python -m pytest -p no:cacheprovider $(NBVAL) tests notebooks $(PYTEST_ARGS)

test-unit: setup
	$(BIN)/python -m pytest -m "not slow and not browser" $(PYTEST_ARGS)

test-notebooks: setup
	$(BIN)/python -m pytest -p no:cacheprovider $(NBVAL) notebooks $(PYTEST_ARGS)

bench: setup
	$(BIN)/python benchmarks/run.py

release: setup
	$(BIN)/python -m course_utils.grading release

autograde: setup
	$(BIN)/python -m course_utils.grading autograde

feedback: setup
	$(BIN)/python -m course_utils.grading feedback

# Debian's headless Chromium for the browser test; never a browser download.
browser-deps:
	@if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Debian chromium for the browser test..."; \
	    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	  else \
	    echo "chromium is missing and cannot be installed here: the browser test will skip (it never skips in CI)."; \
	  fi; \
	fi

clean:
	rm -rf release submitted autograded feedback feedback_student gradebook.db grades.csv tests/artifacts
