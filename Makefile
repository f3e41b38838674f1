# Two commands on a fresh clone: `make report` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: report test bench lint format docs clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PIP) install --quiet -e .
	touch $@

$(TEST_STAMP): pyproject.toml | $(PY)
	$(PIP) install --quiet -e ".[test]"
	touch $(STAMP) $@

# The 12-month evaluation report of the bundled synthetic programme; prints the HTML path.
report: $(STAMP)
	@$(VENV)/bin/outcomes report examples/demo_evaluation.yaml --output build/report

test: $(TEST_STAMP)
	$(PY) -m pytest -q

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
