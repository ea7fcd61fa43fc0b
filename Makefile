# Cheeper in Realtime. Run `make` to see the commands.

PYTHON ?= python3
HOST ?= 127.0.0.1
PORT ?= 5000
FROM ?= step0_request_response
APP ?= workspace
WORKERS ?= 4
CHEEPER_REDIS_URL ?= redis://localhost:6379/0

VENV := .venv
ifeq ($(OS),Windows_NT)
  VENV_PYTHON := $(VENV)/Scripts/python.exe
else
  VENV_PYTHON := $(VENV)/bin/python
endif
PIP := $(VENV_PYTHON) -m pip install --quiet --disable-pip-version-check

EXERCISES := typing likes rooms user-feed long-polling

.PHONY: help setup step0 step1 step2 solution solution-prod workspace run check test format bench docs screenshots clean $(EXERCISES)

help:
	@echo "make solution   run the finished realtime app on http://$(HOST):$(PORT)/"
	@echo "make solution-prod  run it as $(WORKERS) gunicorn workers sharing cheeps through Redis (WORKERS=2)"
	@echo "make test       run every test (sets itself up first); HEADED=1 shows the browser"
	@echo "make step0      run step 0, the request/response app (also: step1, step2)"
	@echo "make rooms      run the reference answer of an exercise (docs/going-further.md); also: typing, likes, user-feed, long-polling"
	@echo "make workspace  copy step 0 into workspace/, your own app (FROM=step1_server: a later one)"
	@echo "make run        run your own app, in workspace/"
	@echo "make check STEP=1   check your app against step 1, and say what to fix"
	@echo "make check      find the latest step your app passes, and what comes next"
	@echo "make check STEP=3 SECTION=\"Catching up\"   check only the promises of one section of the lesson"
	@echo "make check STEP=rooms   check your app against an exercise of docs/going-further.md"
	@echo "make check STEP=1 SHARE=http://192.168.1.20:5000 NAME=Ada   also show your name and progress on the instructor's board"
	@echo "make bench      measure the broadcast against Flask-SocketIO, the websockets library, step 1, a raw send() and 2 workers, then attacks, a feed of 50,000 cheeps, the instructor's removals, and long polling against WebSockets"
	@echo "make docs       refresh the code listings in the lesson text (docs/)"
	@echo "make format     format the project's Python as make test expects (ruff)"
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

$(VENV)/.installed-bench: bench/requirements.txt requirements-dev.txt requirements.txt | $(VENV_PYTHON)
	$(PIP) -r bench/requirements.txt
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

# An exercise's reference answer: made in answers/<exercise>/ from answers/<exercise>.patch.
$(EXERCISES): setup
	$(VENV_PYTHON) -m workshop answer $@
	HOST=$(HOST) PORT=$(PORT) $(VENV_PYTHON) answers/$@/server.py

# Several workers, as in a deployment (docs/many-workers.md): needs a running
# redis-server, and Linux or macOS.
solution-prod: setup
	cd solution && HOST=$(HOST) PORT=$(PORT) WORKERS=$(WORKERS) CHEEPER_REDIS_URL=$(CHEEPER_REDIS_URL) \
	  ../$(VENV_PYTHON) -m gunicorn -c gunicorn.conf.py

workspace: setup
	$(VENV_PYTHON) -m workshop workspace --from $(FROM) --to $(APP)

run: setup
	HOST=$(HOST) PORT=$(PORT) $(VENV_PYTHON) $(APP)/server.py

# NAME is taken only from the command line: WSL sets a NAME of its own, the computer's name.
check: $(VENV)/.installed-dev
	@$(VENV_PYTHON) -m workshop check $(STEP) --app $(APP) $(if $(filter 1,$(VERBOSE)),--verbose) \
	  $(if $(SECTION),--section "$(SECTION)") \
	  $(if $(SHARE),--share "$(SHARE)") $(if $(filter command line,$(origin NAME)),--name "$(NAME)")

# The tests mostly wait on servers and browsers: four at a time keep two cores busy.
TESTS_AT_ONCE ?= 4
test: $(VENV)/.installed-dev
	$(VENV_PYTHON) -m pytest -n $(TESTS_AT_ONCE) --dist loadgroup $(PYTEST_ARGS)

# One style for the project's Python (pyproject.toml); make test checks it.
format: $(VENV)/.installed-dev
	$(VENV_PYTHON) -m ruff check --fix .
	$(VENV_PYTHON) -m ruff format .

# Speed and memory, measured: docs/performance.md. BENCH_ARGS="--clients 1000 --repeats 1" for a shorter run.
# The 2 workers need redis-server (skipped without it).
# Then one laptop's attacks, and what a bystander feels meanwhile (Linux only).
bench: $(VENV)/.installed-bench
	$(VENV_PYTHON) bench/fanout.py $(BENCH_ARGS)
	$(VENV_PYTHON) bench/attacks.py
	$(VENV_PYTHON) bench/big_feed.py
	$(VENV_PYTHON) bench/removals.py
	$(VENV_PYTHON) bench/long_polling.py

# The lesson's code listings are copied from the stage folders: this refreshes them.
docs: $(VENV)/.installed-dev
	$(VENV_PYTHON) -m cogapp -I docs -p "from listings import *" -r docs/*.md

# The browser tests save their screenshots where the lesson text shows them.
screenshots: $(VENV)/.installed-dev
	CHEEPER_SCREENSHOTS=docs/images $(VENV_PYTHON) -m pytest -m screenshot

clean:
	rm -rf $(VENV) .pytest_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
