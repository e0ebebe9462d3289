# Two commands for a fresh machine: `make run` and `make test`.
# The venv's interpreter: the OS's CPython when it is 3.10 or newer and can make a venv, else `python3`
# from PATH; PYTHON=... overrides. Distributions build their CPython with profile-guided optimisation, which
# a plain source build of the same version (pyenv's default, often first on PATH) lacks: the whole suite
# needs 13% less CPU on it (docs/testing.md#interpreter).
SYSTEM_PYTHON := $(shell /usr/bin/python3 -c 'import sys, ensurepip; sys.exit(sys.version_info < (3, 10))' >/dev/null 2>&1 && echo /usr/bin/python3)
PYTHON ?= $(or $(SYSTEM_PYTHON),python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# The JavaScript SDK the second-SDK test drives (tests/js/test_js_sdk.py), pinned by its lock file.
JS_STAMP := tests/js/node_modules/.ahi-installed

.PHONY: setup run test bench bench-setup clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

$(JS_STAMP): tests/js/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		cd tests/js && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.ahi-installed; \
	else echo "npm not found: tests/js/test_js_sdk.py will be skipped"; fi

setup: $(STAMP) $(JS_STAMP)

run: setup
	$(BIN)/ahi --local

# Three workers on two cores: a test waits part of its time on its endpoint, tmux or a subprocess, and two
# workers left a quarter of the CPU idle; four gained nothing more (docs/testing.md#workers).
# loadgroup: each test goes to whichever worker is free (no long file left running alone at the end); a module
# that builds a shared world stays on one worker (tests/conftest.py groups it).
# Bytecode is written (an inherited PYTHONDONTWRITEBYTECODE is cleared): each worker would otherwise compile
# every module and rewrite every test's asserts again on every run. The slowest tests are listed at the end.
test: setup
	PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest -n 3 --dist loadgroup --durations=15

bench-setup:
	bash bench/setup.sh

# Every benchmark in turn (figures, not pass/fail); see bench/README.md for each one's options.
bench: setup bench-setup
	for script in import search frames triage startup load metadata_view; do $(BIN)/python bench/$$script.py || exit 1; done

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache tests/js/node_modules
