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

# Neo4j Community 5.26 from Maven Central (cached in ~/.m2) and its launcher
NEO4J_CP := tools/neo4j-server/target/classpath.txt
neo4j-server: $(NEO4J_CP)

$(NEO4J_CP): tools/neo4j-server/pom.xml tools/neo4j-server/src/main/java/graphwatch/Launcher.java | system-deps
	cd tools/neo4j-server && mvn -B -q -ntp package -DskipTests

bench: setup
	$(BIN)/python benchmarks/bench_load.py

clean:
	rm -rf $(VENV) .graphwatch *.egg-info
