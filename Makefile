# The two commands a new user needs: `make run` and `make test`. Everything they install is
# listed here or in pyproject.toml, so a clean clone (and CI) gets exactly the same.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
FLASK := $(BIN)/flask --app app

.PHONY: run test install browser oidc-provider lint migrate seed serve clean

run: install migrate seed serve

test: install browser oidc-provider
	$(BIN)/python -m pytest $(PYTEST_ARGS)

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,e2e]'
	@touch $@

# Playwright cannot download its own browser here: the browser tests drive Debian's chromium.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium; }

# The single sign-on tests sign in at a real OpenID provider (node-oidc-provider), installed
# from its lock file. Without node the tests that need it skip and say so; CI has node.
OIDC_PROVIDER := tests/oidc_provider
oidc-provider: $(OIDC_PROVIDER)/node_modules/.installed

$(OIDC_PROVIDER)/node_modules/.installed: $(OIDC_PROVIDER)/package.json $(OIDC_PROVIDER)/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  npm ci --prefix $(OIDC_PROVIDER) --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "npm is not installed: the single sign-on tests will skip."; fi

# `flask` reads .flaskenv (python-dotenv), so in this checkout every flask command, the
# README's included, runs in development mode. An existing file is left as it is; the
# environment still wins over it. Nothing else reads it: gunicorn, or a server without the file,
# stays in production mode and refuses to start without a SECRET_KEY.
.flaskenv:
	@echo "APP_ENV=development" > $@
	@echo "Wrote .flaskenv: flask commands in this checkout run with APP_ENV=development."

migrate: install .flaskenv
	$(FLASK) db upgrade

seed: install .flaskenv
	$(FLASK) seed-demo

serve: .flaskenv
	@echo "Serving on http://$(HOST):$(PORT)/ (Ctrl-C to stop). Demo logins are listed above."
	$(FLASK) run --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) instance/moderation.sqlite3 .flaskenv $(OIDC_PROVIDER)/node_modules
