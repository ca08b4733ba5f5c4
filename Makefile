# cla-bot — `make run` serves the bot on SQLite; `make test` runs the whole suite.
# Both set up .venv on a fresh machine (Python 3.11+).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck format migrate bench clean help

help:
	@echo "make run    - set up .venv, migrate the SQLite database, serve on http://127.0.0.1:8080"
	@echo "make test   - set up .venv with test extras and run the whole suite"
	@echo "make lint   - ruff check + format check + mypy --strict"
	@echo "make bench  - run the benchmarks in bench/"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

run: $(STAMP)
	@mkdir -p var
	$(BIN)/cla-bot migrate
	$(BIN)/cla-bot serve

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

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
