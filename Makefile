# The two commands a new user needs: `make run` and `make test`. Everything they install is
# listed here or in pyproject.toml, so a clean clone (and CI) gets exactly the same.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
FLASK := $(BIN)/flask --app app

.PHONY: run test install browser lint migrate seed serve clean

run: install migrate seed serve

test: install browser
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

migrate: install
	APP_ENV=$${APP_ENV:-development} $(FLASK) db upgrade

seed: install
	APP_ENV=$${APP_ENV:-development} $(FLASK) seed-demo

serve:
	@echo "Serving on http://$(HOST):$(PORT)/ (Ctrl-C to stop). Demo logins are listed above."
	APP_ENV=$${APP_ENV:-development} $(FLASK) run --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) instance/moderation.sqlite3
