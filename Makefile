# make run   : set everything up and serve http://127.0.0.1:8000 (SQLite, demo data)
# make test  : set everything up and run the whole suite (throwaway PostgreSQL if the server exists),
#              in PYTEST_WORKERS processes (pytest-xdist; 0: one process)
# make lint  : ruff (.ci/run runs it beside make test)
# make bench : benchmarks (not run in CI)
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export CASEMGMT_DEVELOPMENT := 1
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run test bench setup system-packages keys messages lint code clean

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements.txt
	touch $@

# Debian packages the project needs: gettext (translations), Pango and fonts with Khmer (PDFs),
# Chromium (browser tests), poppler-utils (the PDF tests look at pages as images). Installed only when missing.
SYSTEM_PACKAGES := gettext libpango-1.0-0 libpangoft2-1.0-0 fonts-khmeros fonts-dejavu-core chromium poppler-utils
system-packages:
	@missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if ! command -v apt-get >/dev/null; then echo "Please install: $$missing"; \
	  else echo "Installing system packages: $$missing"; \
	    SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	    $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; fi; \
	fi

# Marks this checkout as one for development, so that `.venv/bin/python manage.py ...` typed by hand
# (verify_audit, seed_demo, ...) runs as under make. Never deploy from a checkout that has it.
var/DEVELOPMENT:
	@mkdir -p var
	@printf '%s\n' "This checkout is for development: manage.py runs here with development settings" \
	  "(generated secret key and keys in var/, no HTTPS) unless SECRET_KEY, SECRET_KEY_FILE or ALLOWED_HOSTS" \
	  "is set, or CASEMGMT_DEVELOPMENT=0. Written by make; delete it before serving this checkout in production." > $@

keys: $(VENV)/.installed
	@$(PY) manage.py generate_keys --output var/dev-keys.json --if-missing

messages: $(VENV)/.installed
	@$(PY) manage.py compilemessages --ignore=.venv -v 0

setup: system-packages $(VENV)/.installed var/DEVELOPMENT keys messages

run: setup
	$(PY) manage.py migrate --noinput -v 0
	$(PY) manage.py seed_demo
	$(PY) manage.py seed_demo_clients
	$(PY) manage.py seed_demo_counselling
	$(PY) manage.py seed_demo_plans
	$(PY) manage.py seed_demo_referrals
	$(PY) manage.py seed_demo_history
	DEBUG=true $(PY) manage.py runserver 127.0.0.1:8000

# Two workers: the whole suite in about half the time on two cores (each worker has its own test database).
PYTEST_WORKERS ?= 2

test: setup
	$(PY) scripts/with_postgres.py -- $(PY) -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

bench: setup
	$(PY) scripts/with_postgres.py -- $(PY) -m bench $(BENCH_ARGS)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .

code: $(VENV)/.installed
	@$(PY) manage.py demo_code $(ACCOUNT)

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .ruff_cache
