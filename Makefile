# The README's two commands: `make demo` and `make test`. Each does all set-up on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test setup system-deps neo4j-server bench clean lock

demo: setup
	$(BIN)/graphwatch demo

# the Neo4j parity tests run against a real server here: they fail rather than skip
test: setup neo4j-server
	GRAPHWATCH_REQUIRE_NEO4J=1 $(BIN)/python -m pytest -q -p no:cacheprovider

setup: system-deps $(STAMP)

system-deps:
	@scripts/install-system-deps.sh

# Exact versions with hashes from the lock file (what CI tested), then the package itself
# without resolving anything again. pip keeps its downloads in ~/.cache/pip, so a second
# fresh clone installs from cache. 'make lock' rewrites the locks from pyproject.toml.
$(STAMP): pyproject.toml requirements/dev.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check --require-hashes -r requirements/dev.lock
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

# runtime.lock: what the package needs (and its Neo4j extra); dev.lock adds the test tools,
# constrained to the same runtime versions. Python 3.11 on x86-64 Linux, as CI.
LOCK = $(VENV)/lock-tools/bin/uv pip compile pyproject.toml requirements/build.in --generate-hashes \
	--python-version 3.11 --python-platform x86_64-manylinux_2_28 -q
lock:
	test -x $(VENV)/lock-tools/bin/uv || ($(PYTHON) -m venv $(VENV)/lock-tools && $(VENV)/lock-tools/bin/pip install -q uv)
	$(LOCK) --extra neo4j -o requirements/runtime.lock
	$(LOCK) --extra neo4j --extra dev -c requirements/runtime.lock -o requirements/dev.lock

# Neo4j Community 5.26 from Maven Central (cached in ~/.m2) and its launcher, built into ~/.cache/graphwatch;
# build_launcher() is a no-op when the launcher is built and every jar it names is still in ~/.m2
neo4j-server: setup
	$(BIN)/python -c "from graphwatch.neo4j.server import build_launcher; build_launcher()"

bench: setup
	$(BIN)/python benchmarks/bench_load.py

clean:
	rm -rf $(VENV) .graphwatch *.egg-info
