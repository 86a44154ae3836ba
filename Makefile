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

.PHONY: run test pytest lint test-browser test-api-schema vendor-check lock clean

# Two instances started at once on a fresh clone would both install into .venv: the lock (where
# util-linux's flock exists) makes the second wait, then find nothing left to do.
INSTALL := $(if $(shell command -v flock),flock .venv.lock,) sh -c

# What is installed: the exact versions of the lock files, each file checked against its hashes
# (--require-hashes), so that a release replaced on the index, or a package that was never asked
# for, stops the install. LOCK is what `make run` and the Dockerfile need; LOCK_DEV that and the
# dev extras (tests, lint). `make lock` writes both from pyproject.toml.
LOCK := requirements/lock.txt
LOCK_DEV := requirements/lock-dev.txt
# The project itself then goes in without dependencies and without build isolation: its build
# backend (setuptools, [build-system]) is in the lock too, so nothing is fetched unpinned. pip
# check fails if pyproject.toml asks for what the lock lacks (a lock not regenerated).
LOCKED_INSTALL = { [ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV); } \
  && $(BIN)/pip install --quiet --require-hashes -r $(1) \
  && $(BIN)/pip install --quiet --no-deps --no-build-isolation -e . \
  && $(BIN)/pip check >/dev/null

$(VENV)/.installed-run: $(LOCK) pyproject.toml
	$(INSTALL) '$(call LOCKED_INSTALL,$(LOCK))'
	touch $@

$(VENV)/.installed-dev: $(LOCK_DEV) pyproject.toml
	$(INSTALL) '$(call LOCKED_INSTALL,$(LOCK_DEV))'
	touch $@

## lock: rewrite the lock files from pyproject.toml (after changing a dependency there), with the
## hash of every file on PyPI, for Python 3.11 on x86-64 Linux (this machine's and CI's Python;
## the Dockerfile's python:3.11 resolves the same). A version already locked stays while
## pyproject.toml allows it; `make lock UPGRADE=1` takes the newest allowed of everything. LOCK is
## resolved first and LOCK_DEV within it, so that a test tool never holds back what production
## runs. uv (`uv pip compile`) runs from a throw-away venv: it is no dependency of the project.
## It asks PyPI alone whatever pip is configured with, so the hashes are PyPI's.
UV_VERSION ?= 0.13.9
LOCK_PYTHON_VERSION ?= 3.11.7
LOCK_PLATFORM ?= x86_64-unknown-linux-gnu
UV_COMPILE = $$uv/bin/uv pip compile --quiet pyproject.toml - --generate-hashes \
  --python-version $(LOCK_PYTHON_VERSION) --python-platform $(LOCK_PLATFORM) \
  --default-index https://pypi.org/simple --custom-compile-command 'make lock' \
  $(if $(UPGRADE),--upgrade)
BUILD_REQUIRES = $(PYTHON) -c 'import tomllib; print(*tomllib.load(open("pyproject.toml", "rb"))["build-system"]["requires"], sep="\n")'
lock:
	set -eo pipefail; uv=$$(mktemp -d); trap 'rm -rf "$$uv"' EXIT; \
	$(PYTHON) -m venv "$$uv"; "$$uv/bin/pip" install --quiet "uv==$(UV_VERSION)"; \
	$(BUILD_REQUIRES) | $(UV_COMPILE) -o $(LOCK); \
	$(BUILD_REQUIRES) | $(UV_COMPILE) --extra dev -c $(LOCK) -o $(LOCK_DEV)

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

## vendor-check: the files under static/vendor/ against static/vendor/MANIFEST.md, each npm
## tarball downloaded again and checked against the registry's integrity hash (needs the npm
## registry; the test suite checks the same files offline).
vendor-check: $(VENV)/.installed-run
	$(BIN)/python manage.py vendor_check

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
