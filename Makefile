# make run   : set everything up and serve http://127.0.0.1:8000 (SQLite, demo data)
# make test  : set everything up and run the whole suite (throwaway PostgreSQL if the server exists)
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
# Chromium (browser tests). Installed only when missing.
SYSTEM_PACKAGES := gettext libpango-1.0-0 libpangoft2-1.0-0 fonts-khmeros fonts-dejavu-core chromium
system-packages:
	@missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if ! command -v apt-get >/dev/null; then echo "Please install: $$missing"; \
	  else echo "Installing system packages: $$missing"; \
	    SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	    $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; fi; \
	fi

keys: $(VENV)/.installed
	@$(PY) manage.py generate_keys --output var/dev-keys.json --if-missing

messages: $(VENV)/.installed
	@$(PY) manage.py compilemessages --ignore=.venv -v 0

setup: system-packages $(VENV)/.installed keys messages

run: setup
	$(PY) manage.py migrate --noinput -v 0
	$(PY) manage.py seed_demo
	$(PY) manage.py seed_demo_clients
	$(PY) manage.py seed_demo_counselling
	DEBUG=true $(PY) manage.py runserver 127.0.0.1:8000

test: setup
	$(PY) scripts/with_postgres.py -- $(PY) -m pytest $(PYTEST_ARGS)

bench: setup
	$(PY) scripts/with_postgres.py -- $(PY) -m bench $(BENCH_ARGS)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .

code: $(VENV)/.installed
	@$(PY) manage.py demo_code $(ACCOUNT)

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .ruff_cache
