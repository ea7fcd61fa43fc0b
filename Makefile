# Cheeper in Realtime. Run `make` to see the commands.

PYTHON ?= python3
HOST ?= 127.0.0.1
PORT ?= 5000

VENV := .venv
ifeq ($(OS),Windows_NT)
  VENV_PYTHON := $(VENV)/Scripts/python.exe
else
  VENV_PYTHON := $(VENV)/bin/python
endif
PIP := $(VENV_PYTHON) -m pip install --quiet --disable-pip-version-check

.PHONY: help setup step0 step1 step2 solution test screenshots clean

help:
	@echo "make solution   run the finished realtime app on http://$(HOST):$(PORT)/"
	@echo "make test       run every test (sets itself up first); HEADED=1 shows the browser"
	@echo "make step0      run step 0, the request/response app (also: step1, step2)"
	@echo "make screenshots  refresh the pictures of the pages in docs/images"
	@echo "make setup      create .venv with the pinned requirements"
	@echo "make clean      remove .venv and caches (the cheeps.db files stay)"
	@echo "Options: PORT=5001 (another port), HOST=0.0.0.0 (let others on your network connect)"

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt | $(VENV_PYTHON)
	$(PIP) -r requirements.txt
	@touch $@

$(VENV)/.installed-dev: requirements-dev.txt requirements.txt | $(VENV_PYTHON)
	$(PIP) -r requirements-dev.txt
	@touch $@

$(VENV_PYTHON):
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null || { \
	  echo "Cheeper needs Python 3.10 or newer, and '$(PYTHON)' is: $$($(PYTHON) --version 2>&1 || echo 'not found')."; \
	  echo "Install a newer Python (python.org), or name one: make PYTHON=python3.12 ..."; \
	  exit 1; }
	$(PYTHON) -m venv $(VENV)

step0: setup
	HOST=$(HOST) PORT=$(PORT) $(VENV_PYTHON) step0_request_response/server.py

step1: setup
	HOST=$(HOST) PORT=$(PORT) $(VENV_PYTHON) step1_server/server.py

step2: setup
	HOST=$(HOST) PORT=$(PORT) $(VENV_PYTHON) step2_client/server.py

solution: setup
	HOST=$(HOST) PORT=$(PORT) $(VENV_PYTHON) solution/server.py

test: $(VENV)/.installed-dev
	$(VENV_PYTHON) -m pytest $(PYTEST_ARGS)

# The browser tests save their screenshots where the lesson text shows them.
screenshots: $(VENV)/.installed-dev
	CHEEPER_SCREENSHOTS=docs/images $(VENV_PYTHON) -m pytest -k screenshot

clean:
	rm -rf $(VENV) .pytest_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
