# cla-bot — `make run` serves the bot on SQLite; `make test` runs the whole suite.
# Both set up .venv on a fresh machine (Python 3.11+).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The locked dependencies, with their hashes (`make lock` regenerates both from pyproject.toml
# and requirements/*.in): the runtime's, and the runtime's with the test extras.
LOCK_RUNTIME := requirements/runtime.txt
LOCK_TEST := requirements/test.txt
# pip says nothing unless something fails (then its errors).
PIP := $(BIN)/python -m pip --quiet --quiet --disable-pip-version-check
RUN_STAMP := $(VENV)/.installed-runtime
TEST_STAMP := $(VENV)/.installed-test

.PHONY: run test lint typecheck format migrate bench clean help lock

help:
	@echo "make run    - set up .venv and serve on http://127.0.0.1:8080 (the sandbox demo while"
	@echo "              no forge is configured; SANDBOX=no for the real bot and its /setup)"
	@echo "make test   - set up .venv with test extras and run the whole suite"
	@echo "make lint   - ruff check + format check + mypy --strict"
	@echo "make bench  - run the benchmarks in bench/"
	@echo "make lock   - regenerate requirements/*.txt (hash-locked) from pyproject.toml"

$(BIN)/python:
	@$(PYTHON) -m venv $(VENV)

# Hash-checked dependencies first, then the project itself (editable, no dependencies, built by
# the locked setuptools rather than one fetched for an isolated build). The lock is complete, so
# pip installs exactly its lines (--no-deps) and `pip check` proves nothing is missing: resolving
# again would let pip 23's resolver reach past a pin for a dependency asked for with an extra
# (pytest-cov's coverage[toml]) and refuse the install whenever a newer release exists.
$(RUN_STAMP): $(LOCK_RUNTIME) pyproject.toml setup.py | $(BIN)/python
	@$(PIP) install --require-hashes --no-deps -r $(LOCK_RUNTIME)
	@$(PIP) check
	@$(PIP) install --no-deps --no-build-isolation -e .
	@touch $@

$(TEST_STAMP): $(LOCK_TEST) pyproject.toml setup.py | $(BIN)/python
	@$(PIP) install --require-hashes --no-deps -r $(LOCK_TEST)
	@$(PIP) check
	@$(PIP) install --no-deps --no-build-isolation -e .
	@touch $@

# With no forge configured (no CLA_GITHUB_APP_ID or CLA_GITEE_TOKEN in the environment and no
# var/github-app.env), `make run` starts the sandbox walk-through (`cla-bot demo`).
# SANDBOX=no always serves the real bot (its /setup connects a forge); SANDBOX=yes always the demo.
SANDBOX ?= auto

run: $(RUN_STAMP)
	@mkdir -p var
	@if [ "$(SANDBOX)" = "yes" ] || { [ "$(SANDBOX)" != "no" ] \
	    && [ -z "$$CLA_GITHUB_APP_ID$$CLA_GITEE_TOKEN" ] \
	    && [ ! -f "$${CLA_VAR_DIR:-var}/github-app.env" ]; }; then \
	  echo "No forge is configured: starting the sandbox to try the bot."; \
	  echo "(For the real bot: make run SANDBOX=no, then open /setup on it.)"; \
	  exec $(BIN)/cla-bot demo; \
	fi; \
	$(BIN)/cla-bot migrate && exec $(BIN)/cla-bot serve

migrate: $(RUN_STAMP)
	$(BIN)/cla-bot migrate

test: $(TEST_STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy --strict bot

typecheck: $(TEST_STAMP)
	$(BIN)/mypy --strict bot

format: $(TEST_STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(TEST_STAMP)
	$(BIN)/python -m bench

.PHONY: bench-quick soak
SOAK_SECONDS ?= 300

# The benchmarks with a few seconds per load level (wrk is used when installed).
bench-quick: $(TEST_STAMP)
	$(BIN)/python -m bench --quick

# The long resilience runs (kill cycles, fuzzing at scale, scale-out and outages on PostgreSQL
# when CLA_TEST_POSTGRES_URL is set), then atheris on the webhook parsers, for SOAK_SECONDS each.
soak: $(TEST_STAMP)
	CLA_SOAK_SECONDS=$(SOAK_SECONDS) $(BIN)/python -m pytest tests/resilience $(PYTEST_ARGS)
	@if $(BIN)/python -c "import atheris" 2>/dev/null || $(BIN)/python -m pip install --quiet atheris; \
	then $(BIN)/python tests/resilience/atheris_webhooks.py -max_total_time=$(SOAK_SECONDS); \
	else echo "atheris is not installable here: the coverage-guided fuzz run is skipped"; fi

# Lock every dependency with its hashes, for any platform, Python 3.11 and later. Run it after
# changing a dependency in pyproject.toml or requirements/*.in: versions already locked stay
# while they still fit; `make lock UPGRADE=--upgrade` takes the newest allowed ones.
UPGRADE ?=
UV_COMPILE = $(BIN)/uv pip compile --quiet --universal --python-version 3.11 --generate-hashes \
	--custom-compile-command "make lock" $(UPGRADE)

lock: | $(BIN)/python
	@$(PIP) install "uv>=0.5"
	$(UV_COMPILE) pyproject.toml requirements/runtime.in -o $(LOCK_RUNTIME)
	$(UV_COMPILE) --extra test pyproject.toml requirements/test.in -o $(LOCK_TEST)

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
