# Two commands set everything up (README): `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(abspath $(VENV))/bin
PORT ?= 8000
export PORT
# The local demo runs with DEBUG on, which lets it generate its SECRET_KEY under var/. Any
# settings variable set in the environment (README) is passed through unchanged.
export DEBUG ?= true
export PATH := $(BIN):$(PATH)

.PHONY: run test pytest lint test-browser test-api-schema clean

# Two instances started at once on a fresh clone would both install into .venv: the lock (where
# util-linux's flock exists) makes the second wait, then find nothing left to do.
INSTALL := $(if $(shell command -v flock),flock .venv.lock,) sh -c

$(VENV)/.installed-run: pyproject.toml
	$(INSTALL) '[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV) && $(BIN)/pip install --quiet -e .'
	touch $@

$(VENV)/.installed-dev: pyproject.toml
	$(INSTALL) '[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV) && $(BIN)/pip install --quiet -e ".[dev]"'
	touch $@

# What `make run` rebuilds only when its sources changed (a second start skips both): the
# compiled catalogues, and the collected static files (ours, and the installed apps').
VAR := $(or $(VAR_DIR),var)
MO_FILES := $(patsubst %.po,%.mo,$(wildcard locale/*/LC_MESSAGES/*.po))
STATIC_MANIFEST := $(VAR)/staticfiles/staticfiles.json

$(MO_FILES) &: $(wildcard locale/*/LC_MESSAGES/*.po) | $(VENV)/.installed-run
	$(BIN)/python manage.py translations_compile

$(STATIC_MANIFEST): $(shell find static -type f) $(VENV)/.installed-run
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0

## run: the embedded broker, web on 127.0.0.1:$(PORT), one Celery worker and beat, in the
## foreground under supervisor (a process that dies is restarted); Ctrl-C stops all.
run: $(VENV)/.installed-run $(MO_FILES) $(STATIC_MANIFEST)
	$(BIN)/python -m config.instance
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo --skip-checks
	exec $(BIN)/python manage.py platform_run --skip-checks --port $(PORT)

# Which tests `make pytest` runs (a pytest -m expression); CI's second run leaves out the `once`
# tests too.
PYTEST_MARKERS ?= not browser

## test: lint, then the whole suite except the browser tests.
test: $(VENV)/.installed-dev lint pytest

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run --verbosity 0

pytest: $(VENV)/.installed-dev
	$(BIN)/python manage.py translations_compile
	$(BIN)/pytest -m "$(PYTEST_MARKERS)" -n 2 --durations=15

## test-browser: the browser tests in Debian's Chromium (installed here when missing and root).
test-browser: $(VENV)/.installed-dev
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	  else echo "Browser tests need Debian's chromium: sudo apt-get install chromium fonts-noto-cjk" >&2; exit 1; fi; \
	fi
	$(BIN)/python manage.py translations_compile
	$(BIN)/pytest -m browser -p no:xdist

## test-api-schema: Schemathesis against the API over HTTP: gunicorn on a throw-away PostgreSQL
## database (needs PostgreSQL on 127.0.0.1:5432, user postgres); no 5xx, responses as documented.
test-api-schema: $(VENV)/.installed-dev
	.ci/schemathesis

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
