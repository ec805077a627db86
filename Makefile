# The two set-up commands: `make demo` and `make test`. Both install what they need and are idempotent.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.venustui-installed

.PHONY: demo test test-lab-all bench bench-memory system venv

system:
	@PYTHON=$(PYTHON) scripts/system-deps.sh

$(STAMP): pyproject.toml constraints.txt
	@$(MAKE) --no-print-directory system
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[test,bench]'
	@touch $(STAMP)

venv: system $(STAMP)

test: venv
	$(VENV)/bin/ruff check venustui tests bench
	$(VENV)/bin/lint-imports
	$(PY) -m pytest

# Every lab test on every Mesa × virglrenderer pair Debian serves (make test runs two pairs).
test-lab-all: venv
	$(PY) -m pytest -m lab

demo: venv
	$(PY) -m venustui lab install
	$(PY) -m venustui

bench: venv
	@PYTHON=$(PYTHON) scripts/system-deps.sh bench
	$(PY) bench/probe.py
	$(PY) bench/lab.py
	$(PY) bench/qemu.py
	$(PY) bench/scenarios.py
	$(PY) bench/driver_inspect.py
	$(PY) bench/tui.py
	$(PY) bench/journal.py
	$(PY) bench/hostile.py
	$(PY) bench/diagnose.py
	$(PY) bench/ingest.py

bench-memory: venv
	$(PY) bench/tui.py --minutes 10
