# `make run` and `make test` set everything up on a bare machine with python3 and make.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test bench browser clean baseline bytecode

# the regression suite (tests/benchmarks/) with its timings on: a run folder with
# runs.parquet, manifest.json and pytest-benchmark's benchmarks.json (docs/ci.md)
GATE_RUN := results/gate
TIMED = --benchmark-enable --benchmark-columns=median,iqr,rounds --benchmark-sort=name \
	--regression-out $(1) --benchmark-json $(1)/benchmarks.json

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,cutest]'
	touch $(STAMP)

# The project's bytecode, written ahead: an editable install compiles none, and where
# PYTHONDONTWRITEBYTECODE is set (many container images) Python never writes it, so
# every command would recompile ~100 modules from source (the warm small benchmark:
# medians 4.11 s without, 3.71 s with, five alternated runs). Up to date: 0.07 s.
bytecode: $(STAMP)
	$(PY) -m compileall -q bench problems optimizers

run: bytecode
	$(PY) -m bench run

test: bytecode browser
	$(VENV)/bin/ruff check .
	rm -rf $(GATE_RUN) && mkdir -p $(GATE_RUN)
	$(PY) -m pytest -q tests $(call TIMED,$(GATE_RUN))
	PY=$(PY) .ci/gate results/baseline $(GATE_RUN)

# refresh the committed baseline on purpose (from a clean, committed tree: CI
# rebuilds it from the commit it records when its environment differs)
baseline: bytecode
	rm -rf results/baseline.new && mkdir -p results/baseline.new
	$(PY) -m pytest -q tests/benchmarks/test_regression.py $(call TIMED,results/baseline.new)
	rm -f results/baseline.new/traces.parquet
	rm -rf results/baseline && mv results/baseline.new results/baseline

# Debian's Chromium and ChromeDriver for the test that opens index.html in a browser;
# installed when missing and apt-get is usable (root), else that one test is skipped.
browser:
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	      apt-get install -y -qq chromium chromium-driver >/dev/null; \
	  else echo "note: no chromium; the browser test of index.html will be skipped"; fi; \
	fi

bench: bytecode
	$(PY) -m bench.speed

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
