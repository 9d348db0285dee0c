# numaexp: two commands do all the set-up (see README.md).
#   make run   - create .venv, install numaexp, compare modes on the default scenario -> out/
#   make test  - create/update the same .venv and run the whole test suite
#   make fuzz  - the long fuzz profile (FUZZ_CASES=10000 scenarios, bounds-checked)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test fuzz bench lint clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/numaexp run --out out --overwrite

test: $(STAMP)
	$(BIN)/python -m pytest

FUZZ_CASES ?= 10000
fuzz: $(STAMP)
	$(BIN)/python tests/fuzz_run.py --cases $(FUZZ_CASES) --boundscheck --threads-every 50 \
		--log out/fuzz

bench: $(STAMP)
	$(BIN)/python bench/bench_core.py

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf out .pytest_cache .ruff_cache .hypothesis
	find . -name __pycache__ -prune -exec rm -rf {} +
