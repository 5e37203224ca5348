# `make run` and `make test` set everything up on a bare machine with python3 and make.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test bench browser clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,cutest]'
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m bench run

test: $(STAMP) browser
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q

# Debian's Chromium and ChromeDriver for the test that opens index.html in a browser;
# installed when missing and apt-get is usable (root), else that one test is skipped.
browser:
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	      apt-get install -y -qq chromium chromium-driver >/dev/null; \
	  else echo "note: no chromium; the browser test of index.html will be skipped"; fi; \
	fi

bench: $(STAMP)
	$(PY) -m bench.speed

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
