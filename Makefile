# Two commands do all set-up: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
INDEX  ?= index
DATA   ?= samples
HOST   ?= 127.0.0.1
PORT   ?= 8000
WORKERS ?= $(shell nproc 2>/dev/null || echo 1)

.PHONY: run test install install-test install-bench browser bench lock index serve eval clean-index opensearch

# Locks: requirements.in (runtime), tests/requirements.in, bench/requirements.in name the direct
# dependencies; `make lock` compiles them into the .txt files beside them (every package pinned,
# with hashes) and keeps the versions already pinned unless UPGRADE=1 is given.
UV_VERSION = 0.13.8
LOCK = $(BIN)/uv pip compile --quiet --universal --python-version 3.11 --generate-hashes $(if $(UPGRADE),--upgrade)

# The project's own modules compiled to bytecode, as pip compiles every package it installs:
# Python then reads them instead of compiling ~10,000 lines at each command (0.26 s of every
# `python -m search index` where bytecode is never written, PYTHONDONTWRITEBYTECODE=1).
install: $(VENV)/.installed
	@$(BIN)/python -m compileall -q search web
install-test: $(VENV)/.installed-test
install-bench: $(VENV)/.installed-bench

$(BIN)/python:
	@if ! $(PYTHON) -c "import ensurepip, venv" >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && apt-get install -y -qq python3-venv; \
	  else echo "Python's venv module is missing: install it (Debian: sudo apt-get install python3-venv)"; exit 1; fi; \
	fi
	$(PYTHON) -m venv $(VENV)
	@# The locks install with pip 23.2 or newer (what Python 3.11.5+ ships); an older pip is upgraded.
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "pip>=23.2"

# Each lock installs as is: pip checks every hash, nothing unpinned comes along.
$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.installed-test: tests/requirements.txt $(VENV)/.installed
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r tests/requirements.txt
	touch $@

$(VENV)/.installed-bench: bench/requirements.txt $(VENV)/.installed
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r bench/requirements.txt
	touch $@

lock: | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(LOCK) requirements.in -o requirements.txt
	$(LOCK) tests/requirements.in -o tests/requirements.txt
	$(LOCK) bench/requirements.in -o bench/requirements.txt

# The browser tests drive Debian's Chromium (Playwright cannot download its own browser here);
# a CJK font makes their screenshots legible. Installed when missing and possible (root + apt).
browser:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing Chromium for the browser tests (apt-get)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null; \
	else \
	  echo "*** WARNING: no /usr/bin/chromium and no root + apt-get to install it: the BROWSER TESTS WILL BE SKIPPED"; \
	  echo "*** (Debian: sudo apt-get install chromium fonts-wqy-microhei)"; \
	fi

# Index the bundled samples if no index exists yet; with DATA=folder, (re)index that folder.
index: install
ifeq ($(origin DATA),command line)
	$(BIN)/python -m search index $(DATA) --index $(INDEX)
else
	@if [ -f "$(INDEX)/search-meta.json" ]; then echo "index $(INDEX)/ exists; \`make run DATA=folder\` adds a folder"; \
	else $(BIN)/python -m search index $(DATA) --index $(INDEX); fi
endif

run: index
	@echo "Open http://$(HOST):$(PORT)/"
	$(BIN)/python -m search serve --index $(INDEX) --host $(HOST) --port $(PORT) --workers $(WORKERS)

# pytest exits 5 when it collects no tests; that is not a failure of the code.
test: install-test browser
	$(BIN)/python -m pytest -q || [ $$? -eq 5 ]

# One OpenSearch node on 127.0.0.1:9200 in the foreground (Ctrl-C stops it), built from Maven
# Central jars the first time (needs Java 17+ and Maven); data and log in .opensearch/.
opensearch: install
	$(BIN)/python -m search.backends.opensearch.localnode --port 9200 --data .opensearch

# The benchmarks need their baselines (jieba, tantivy) and an evaluation library: bench/requirements.txt.
bench: install-bench
	@echo "benchmark packages installed; run e.g. $(BIN)/python -m bench.indexing (see README, Benchmarks)"

eval: install-bench
	$(BIN)/python -m bench.quality

clean-index:
	rm -rf $(INDEX)/*
