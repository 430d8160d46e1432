# The README's two commands: `make demo` and `make test`. Each does all set-up on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test setup system-deps bench clean

demo: setup
	$(BIN)/graphwatch demo

test: setup
	$(BIN)/python -m pytest -q -p no:cacheprovider

setup: system-deps $(STAMP)

system-deps:
	@scripts/install-system-deps.sh

# pip keeps its downloads in ~/.cache/pip, so a second fresh clone installs from cache
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev,neo4j]'
	touch $(STAMP)

bench: setup
	$(BIN)/python benchmarks/bench_load.py

clean:
	rm -rf $(VENV) .graphwatch *.egg-info
