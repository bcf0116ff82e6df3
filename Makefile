# Two commands on a fresh machine: `make demo` and `make test`. Both create .venv themselves.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Neo4j's own Cypher parser (npm), which the tests run over every file in cypher/.
LINT_STAMP := tools/cypher-lint/node_modules/.installed

.PHONY: demo test lint typecheck unit install clean bench eval lock

# Installs exactly the pinned, hashed versions of requirements.lock, then relgraph itself.
$(STAMP): pyproject.toml requirements.lock
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

install: $(STAMP) $(LINT_STAMP)

demo: $(STAMP)
	$(BIN)/relgraph demo

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks conftest.py
	$(BIN)/ruff format --check src tests benchmarks conftest.py

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
