# Two commands for a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup run test bench bench-setup clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

run: setup
	$(BIN)/ahi --local

test: setup
	$(BIN)/python -m pytest -n 2 --dist loadfile

bench-setup:
	bash bench/setup.sh

# Every benchmark in turn (figures, not pass/fail); see bench/README.md for each one's options.
bench: setup bench-setup
	for script in import search frames triage startup load metadata_view; do $(BIN)/python bench/$$script.py || exit 1; done

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
