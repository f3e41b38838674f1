# Two commands on a fresh clone: `make report` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: report test bench lint format docs clean

# Installs print pip's own progress (no --quiet): a fresh set-up takes a minute or more.
$(PY):
	@echo "== creating $(VENV)"
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --progress-bar on --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	@echo "== installing outcomes and its dependencies into $(VENV) (first run only)"
	$(PIP) install --progress-bar on -e .
	touch $@

$(TEST_STAMP): pyproject.toml | $(PY)
	@echo "== installing outcomes with its test tools into $(VENV) (first run only)"
	$(PIP) install --progress-bar on -e ".[test]"
	touch $(STAMP) $@

# The 12-month evaluation report of the bundled synthetic programme; prints the HTML path.
# The printed time covers the whole build, set-up included.
report:
	@start=$$(date +%s); \
	$(MAKE) --no-print-directory $(STAMP) && \
	$(VENV)/bin/outcomes report examples/demo_evaluation.yaml --output build/report && \
	echo "make report: $$(( $$(date +%s) - start )) s in all (set-up included)"

# One worker per core; a test file stays on one worker (the Spark tests share one session).
test: $(TEST_STAMP)
	$(PY) -m pytest -q -n auto --dist loadfile

bench: $(TEST_STAMP)
	$(PY) benchmarks/run_all.py

lint: $(TEST_STAMP)
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks

format: $(TEST_STAMP)
	$(VENV)/bin/ruff format src tests benchmarks
	$(VENV)/bin/ruff check --fix src tests benchmarks

docs: $(PY)
	$(PIP) install --quiet -e ".[docs]"
	$(VENV)/bin/mkdocs build --strict

clean:
	rm -rf $(VENV) build dist site .pytest_cache .ruff_cache
