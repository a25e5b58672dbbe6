# The whole dev loop. Needs only Python 3.11 (or newer) and make.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
export PYTHONUNBUFFERED := 1

.PHONY: run demo test lint fix services docs bench clean chromium

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

run: $(VENV)/.installed   ## web server + worker + beat on the embedded defaults (Ctrl-C stops all)
	$(BIN)/failbrief run

demo: $(VENV)/.installed   ## a throw-away Prefect, failing example flows, their summaries (ARGS=--once: then stop)
	$(BIN)/failbrief demo $(ARGS)

test: $(VENV)/.installed-test chromium   ## the whole suite; the services tiers run when PostgreSQL and Redis / RabbitMQ answer
	$(BIN)/python -m failbrief.testing.tiers

chromium:   ## Debian's chromium for the browser tier (Playwright drives it; no browser download)
	@test -x /usr/bin/chromium || { [ "$$(id -u)" = 0 ] && apt-get install -y chromium >/dev/null; } \
		|| echo "chromium is missing: the browser tier skips (sudo apt-get install chromium)"

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy failbrief bench
	$(BIN)/lint-imports
	$(BIN)/python -m failbrief.cli.docs --check
	DJANGO_SETTINGS_MODULE=failbrief.settings $(BIN)/django-admin makemigrations --check --dry-run

fix: $(VENV)/.installed-test
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

docs: $(VENV)/.installed
	$(BIN)/python -m failbrief.cli.docs --write

services: $(VENV)/.installed-test   ## do PostgreSQL, Redis and RabbitMQ answer on 127.0.0.1?
	$(BIN)/python -m failbrief.testing.services

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
