# Two commands on a fresh machine: `make demo` and `make test`. Both create .venv themselves.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Neo4j's own Cypher parser (npm), which the tests run over every file in cypher/.
LINT_STAMP := tools/cypher-lint/node_modules/.installed

.PHONY: demo test lint typecheck unit install clean bench eval

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

$(LINT_STAMP): tools/cypher-lint/package-lock.json
	cd tools/cypher-lint && npm ci --no-audit --no-fund --loglevel=error
	touch $(LINT_STAMP)

install: $(STAMP) $(LINT_STAMP)

demo: $(STAMP)
	$(BIN)/relgraph demo

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP) $(LINT_STAMP)
	$(BIN)/pytest -n 2 -q

test: lint typecheck unit

# The scoreboard (not part of `make test`): validate on the synthetic, independent and FEBRL
# datasets with default settings; rewrites benchmarks/EVAL.md. About 15 minutes here.
eval: $(STAMP)
	$(BIN)/pip install --quiet -e '.[eval]'
	$(BIN)/python benchmarks/eval/run.py

clean:
	rm -rf $(VENV) tools/cypher-lint/node_modules relgraph-data .pytest_cache .mypy_cache .ruff_cache
