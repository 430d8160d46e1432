# The README's two commands: `make demo` and `make test`. Each does all set-up on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test setup system-deps neo4j-server bench clean

demo: setup
	$(BIN)/graphwatch demo

# the Neo4j parity tests run against a real server here: they fail rather than skip
test: setup neo4j-server
	GRAPHWATCH_REQUIRE_NEO4J=1 $(BIN)/python -m pytest -q -p no:cacheprovider

setup: system-deps $(STAMP)

system-deps:
	@scripts/install-system-deps.sh

# pip keeps its downloads in ~/.cache/pip, so a second fresh clone installs from cache
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev,neo4j]'
	touch $(STAMP)

# Neo4j Community 5.26 from Maven Central (cached in ~/.m2) and its launcher; build() is a no-op when
# the launcher is built and every jar it names is still in ~/.m2 (a cleared cache is refetched)
neo4j-server: setup
	$(BIN)/python -c "from graphwatch.neo4j_server import build; build()"

bench: setup
	$(BIN)/python benchmarks/bench_load.py

clean:
	rm -rf $(VENV) .graphwatch *.egg-info
