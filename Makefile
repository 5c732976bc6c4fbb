# The README's commands. `make run` uses the embedded default (SQLite, tasks in-process);
# `make test` runs the whole suite on PostgreSQL.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PG_URL ?= postgres://postgres@127.0.0.1:5432/cxplatform
TEST_DATABASE_URL := $(or $(DATABASE_URL),$(PG_URL))

.PHONY: run test lint bench messages install worker beat audit schema

# The code that ships (tests and benchmarks are not served); every finding left is explained inline.
BANDIT_PATHS := cxplatform journeys surveys invitations feedback metrics actions integrations privacy scripts

$(VENV)/.installed: pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is needed ($(PYTHON) not found)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo
	@# The beat's schedule (SLA checks, reminders, scheduled campaigns) runs beside the server; both stop together.
	$(PY) manage.py run_schedule & trap 'kill $$! 2>/dev/null' EXIT INT TERM; $(PY) manage.py runserver 127.0.0.1:8000

test: install
	@DATABASE_URL=$(TEST_DATABASE_URL) $(PY) -m cxplatform.checks.postgres_reachable
	$(VENV)/bin/ruff check .
	@# Bandit warns on every node of a line that carries a "nosec": its log is shown only when it fails.
	$(VENV)/bin/bandit --quiet --recursive --exclude '*/migrations/*' $(BANDIT_PATHS) 2>$(VENV)/bandit.log || { cat $(VENV)/bandit.log; exit 1; }
	$(VENV)/bin/lint-imports --no-cache  # the app arrows of DESIGN.md
	DATABASE_URL=$(TEST_DATABASE_URL) $(VENV)/bin/pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache
	@# Bandit warns on every node of a line that carries a "nosec": its log is shown only when it fails.
	$(VENV)/bin/bandit --quiet --recursive --exclude '*/migrations/*' $(BANDIT_PATHS) 2>$(VENV)/bandit.log || { cat $(VENV)/bandit.log; exit 1; }

# Known vulnerabilities of the installed dependencies: says plainly what could not be audited.
audit: install
	$(PY) -m scripts.audit

bench: install
	@DATABASE_URL=$(TEST_DATABASE_URL) $(PY) -m cxplatform.checks.postgres_reachable
	$(PY) -m bench

messages: install
	$(PY) manage.py makemessages --all --no-obsolete --ignore=.venv --ignore=bench --ignore=tests
	$(PY) manage.py compilemessages --ignore=.venv

worker: install
	$(VENV)/bin/celery -A cxplatform worker --loglevel=INFO

beat: install
	$(VENV)/bin/celery -A cxplatform beat --loglevel=INFO

# The committed OpenAPI schema (docs/api/openapi.yaml); tests/api/test_schema_drift.py fails when
# the code's schema differs from it, so a change to the API is a change to this file too.
# Generated for PostgreSQL, as the suite's drift check does (integer bounds follow the database).
schema: install
	DATABASE_URL=$(TEST_DATABASE_URL) $(PY) manage.py spectacular --file docs/api/openapi.yaml --validate
