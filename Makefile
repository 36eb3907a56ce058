# Accord: two commands do everything on a fresh machine with Python 3.11 and make.
#   make demo   - builds its own virtualenv, installs, runs the end-to-end scenario
#   make test   - builds its own virtualenv, installs, runs the whole suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint typecheck protos bench fuzz clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c "import sys; sys.exit(sys.version_info < (3, 11))" || { echo "error: Accord needs Python 3.11 or newer; set PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/accord demo

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check accord hub node tests scripts benchmarks deploy
	$(BIN)/mypy accord hub node

protos: $(STAMP)
	$(BIN)/python scripts/gen_protos.py

# The benchmark suite (issue 9): bench/results.json, bench/README.md and plots,
# including the matching benchmark; under 15 minutes with the default sizes.
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python -m benchmarks.run

# A longer property-based fuzzing run of every RPC and the ingest parsers.
fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=fuzz $(BIN)/python -m pytest -q tests/adversarial -k fuzz

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
