# Two commands: `make demo` serves the demo, `make test` runs the whole suite. Both set everything up first
# and are safe to run again. Set DATABASE_URL to use another PostgreSQL server.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
# Debian packages: WeasyPrint's text layout, CJK fonts for the PDF, Chromium for browser tests,
# pdftoppm for looking at rendered rosters, gettext for the translation catalogues.
DEB_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-cjk chromium poppler-utils gettext

.PHONY: demo test serve setup system postgres venv database lint clean bench-tools

demo: setup
	$(BIN)/python manage.py seed_demo
	@echo "Serving on http://127.0.0.1:8000/ (Ctrl+C stops); a background worker renders roster PDFs."
	@trap 'kill 0' EXIT INT TERM; \
	  (while true; do $(BIN)/python manage.py db_worker --max-tasks 20 || sleep 2; done) & \
	  $(BIN)/python manage.py runserver 127.0.0.1:8000

test: setup
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

setup: system postgres venv database

# The production stack locally: DEBUG off, hashed static files served by WhiteNoise, gunicorn, a PDF worker.
serve: setup
	test -f .secret_key || $(BIN)/python -c "import secrets; print(secrets.token_urlsafe(50))" > .secret_key
	@export DEBUG=False SECRET_KEY="$$(cat .secret_key)" ALLOWED_HOSTS=127.0.0.1,localhost SECURE_SSL_REDIRECT=False; \
	  $(BIN)/python manage.py collectstatic --no-input -v 0 && \
	  trap 'kill 0' EXIT INT TERM; \
	  (while true; do $(BIN)/python manage.py db_worker --max-tasks 20 || sleep 2; done) & \
	  $(BIN)/gunicorn -c gunicorn.conf.py

system:
	@missing=""; for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	$(PYTHON) -c "import ensurepip, venv" 2>/dev/null || missing="$$missing python3-venv"; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q $$missing; \
	fi

# Without DATABASE_URL we use the server on 127.0.0.1:5432, installing and starting one if none answers.
postgres:
	@if [ -z "$$DATABASE_URL" ] && ! $(PYTHON) -c "import socket; socket.create_connection(('127.0.0.1', 5432), 2)" 2>/dev/null; then \
	  echo "No PostgreSQL on 127.0.0.1:5432: installing and starting one"; \
	  dpkg-query -W -f='$${Status}' postgresql 2>/dev/null | grep -q "ok installed" || \
	    (DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q postgresql); \
	  version=$$(ls /etc/postgresql | sort -n | tail -n 1); \
	  hba=/etc/postgresql/$$version/main/pg_hba.conf; \
	  grep -q "hbwsrc-local-trust" $$hba || \
	    $(SUDO) sed -i '1i host all postgres 127.0.0.1/32 trust # hbwsrc-local-trust' $$hba; \
	  $(SUDO) pg_ctlcluster --skip-systemctl-redirect $$version main start || \
	    $(SUDO) pg_ctlcluster --skip-systemctl-redirect $$version main reload; \
	  for i in $$(seq 30); do $(PYTHON) -c "import socket; socket.create_connection(('127.0.0.1', 5432), 2)" 2>/dev/null && break; sleep 1; done; \
	fi

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

database: venv
	$(BIN)/python manage.py ensure_database
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py compilemessages --ignore '.venv' -v 0

# The load benchmark's tools (bench/load/run.py): wrk from Debian, locust from PyPI (the "bench" extra).
bench-tools: setup
	@dpkg-query -W -f='$${Status}' wrk 2>/dev/null | grep -q "ok installed" || \
	  (DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q wrk)
	$(BIN)/pip install -q -e '.[dev,bench]'

lint: venv
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) staticfiles .pytest_cache
