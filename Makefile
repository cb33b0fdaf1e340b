# Two commands do all set-up on a fresh machine:
#   make run    start the app on the demo workspace (SQLite, sandbox receiver, demo data)
#   make test   install everything the tests need (Python packages, PostgreSQL, Chromium) and run them all
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8501

.PHONY: run test lint bench system-deps clean

$(VENV)/.installed: requirements.txt requirements-dev.txt requirements-spark.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-spark.txt
	touch $@

run: $(VENV)/.installed
	$(PY) -m diagnostics demo --serve --port $(PORT)

system-deps:
	./scripts/system-deps

lint: $(VENV)/.installed
	$(PY) -m ruff check .

test: $(VENV)/.installed system-deps
	$(PY) -m ruff check .
	$(PY) -m pytest

bench: $(VENV)/.installed
	$(PY) bench/bench_signatures.py
	$(PY) bench/bench_sweep.py
	$(PY) bench/bench_logs.py --sizes 1000000,10000000 --csv
	$(PY) bench/bench_fleet.py --big 50000000
	$(PY) bench/bench_coverage.py
	$(PY) bench/bench_startup.py
	$(PY) bench/bench_app.py
	$(PY) bench/bench_pages.py
	$(PY) bench/bench_pull.py
	$(PY) bench/bench_recovery.py
	$(PY) bench/bench_resend.py

clean:
	rm -rf $(VENV) .pytest_cache test-artifacts
