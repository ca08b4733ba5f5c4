# cla-bot — `make run` serves the bot on SQLite; `make test` runs the whole suite.
# Both set up .venv on a fresh machine (Python 3.11+).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck format migrate bench clean help

help:
	@echo "make run    - set up .venv and serve on http://127.0.0.1:8080 (the sandbox demo while"
	@echo "              no forge is configured; SANDBOX=no for the real bot and its /setup)"
	@echo "make test   - set up .venv with test extras and run the whole suite"
	@echo "make lint   - ruff check + format check + mypy --strict"
	@echo "make bench  - run the benchmarks in bench/"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

# With no forge configured (no CLA_GITHUB_APP_ID or CLA_GITEE_TOKEN in the environment and no
# var/github-app.env), `make run` starts the sandbox walk-through (`cla-bot demo`).
# SANDBOX=no always serves the real bot (its /setup connects a forge); SANDBOX=yes always the demo.
SANDBOX ?= auto

run: $(STAMP)
	@mkdir -p var
	@if [ "$(SANDBOX)" = "yes" ] || { [ "$(SANDBOX)" != "no" ] \
	    && [ -z "$$CLA_GITHUB_APP_ID$$CLA_GITEE_TOKEN" ] \
	    && [ ! -f "$${CLA_VAR_DIR:-var}/github-app.env" ]; }; then \
	  echo "No forge is configured: starting the sandbox to try the bot."; \
	  echo "(For the real bot: make run SANDBOX=no, then open /setup on it.)"; \
	  exec $(BIN)/cla-bot demo; \
	fi; \
	$(BIN)/cla-bot migrate && exec $(BIN)/cla-bot serve

migrate: $(STAMP)
	$(BIN)/cla-bot migrate

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy --strict bot

typecheck: $(STAMP)
	$(BIN)/mypy --strict bot

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python -m bench

.PHONY: bench-quick soak
SOAK_SECONDS ?= 300

# The benchmarks with a few seconds per load level (wrk is used when installed).
bench-quick: $(STAMP)
	$(BIN)/python -m bench --quick

# The long resilience runs (kill cycles, fuzzing at scale, scale-out and outages on PostgreSQL
# when CLA_TEST_POSTGRES_URL is set), then atheris on the webhook parsers, for SOAK_SECONDS each.
soak: $(STAMP)
	CLA_SOAK_SECONDS=$(SOAK_SECONDS) $(BIN)/python -m pytest tests/resilience $(PYTEST_ARGS)
	@if $(BIN)/python -c "import atheris" 2>/dev/null || $(BIN)/python -m pip install --quiet atheris; \
	then $(BIN)/python tests/resilience/atheris_webhooks.py -max_total_time=$(SOAK_SECONDS); \
	else echo "atheris is not installable here: the coverage-guided fuzz run is skipped"; fi

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
