# The World Door back office. `make run` and `make test` create .venv on first use.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: run demo test test-fast fuzz bench chaos dr-drill lint format migration clean-var

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $@

## Everything locally on the embedded defaults (SQLite, file store, sandbox, Temporal dev server)
run: $(STAMP)
	$(BIN)/worlddoor dev

## One business day through the staff API and the emulators, with a table of invariants
demo: $(STAMP)
	$(BIN)/worlddoor demo

## The test suite (PostgreSQL and Redis are used when they answer; REQUIRE_SERVICES=1 insists).
## Bytecode is written even where PYTHONDONTWRITEBYTECODE is set: without it pytest compiles and
## rewrites the asserts of every test module on every run (~10 s before the first test).
PYTEST := PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest
## Test processes (pytest-xdist): much of a test's time is spent waiting on servers, timers and
## the browser, and two processes overlap those waits (TEST_PROCESSES=0 runs in this one).
TEST_PROCESSES ?= 2
test: $(STAMP)
	$(PYTEST) -q -n $(TEST_PROCESSES) $(PYTEST_ARGS)

## The fast tier: no database, emulators, S3 or Redis; workflows run with fake activities on the
## time-skipping Temporal server (tests marked `integration` are left out)
test-fast: $(STAMP)
	$(PYTEST) -q -m "not integration" $(PYTEST_ARGS)

## Schemathesis per role (admin, staff, inspector), all checks, stateful phase, many more examples
## than `make test`; prints each role's summary. FUZZ_EXAMPLES / FUZZ_SECONDS (per role) tune it.
FUZZ_EXAMPLES ?= 40
FUZZ_SECONDS  ?= 180
fuzz: $(STAMP)
	SCHEMATHESIS_MAX_EXAMPLES=$(FUZZ_EXAMPLES) SCHEMATHESIS_MAX_TIME=$(FUZZ_SECONDS) \
		$(BIN)/python -m pytest -q -s tests/api/test_schemathesis.py $(PYTEST_ARGS)

## Benchmarks: ratios against ceilings measured in the same run
bench: $(STAMP)
	$(BIN)/python -m bench

## Kill the worker and the Temporal server at random moments, inject faults, count the ledger
chaos: $(STAMP)
	$(BIN)/python -m bench.chaos

## Lint, format check and type check (mypy, configured in pyproject.toml)
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## A new Alembic revision from the model changes: make migration m="add x"
migration: $(STAMP)
	$(BIN)/python -m models.new_revision "$(m)"

clean-var:
	rm -rf var

## Disaster-recovery drill: restore time for a realistic database (README "Backups")
dr-drill: $(STAMP)
	$(BIN)/python -m bench.dr_drill --orders $(or $(orders),100000)
