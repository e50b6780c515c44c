# Two commands do all set-up: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
INDEX  ?= index
DATA   ?= samples
HOST   ?= 127.0.0.1
PORT   ?= 8000
WORKERS ?= $(shell nproc 2>/dev/null || echo 1)

.PHONY: run test install index serve eval clean-index opensearch

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	@if ! $(PYTHON) -c "import ensurepip, venv" >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && apt-get install -y -qq python3-venv; \
	  else echo "Python's venv module is missing: install it (Debian: sudo apt-get install python3-venv)"; exit 1; fi; \
	fi
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

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
test: install
	$(BIN)/python -m pytest -q || [ $$? -eq 5 ]

# One OpenSearch node on 127.0.0.1:9200 in the foreground (Ctrl-C stops it), built from Maven
# Central jars the first time (needs Java 17+ and Maven); data and log in .opensearch/.
opensearch: install
	$(BIN)/python -m search.backends.opensearch.localnode --port 9200 --data .opensearch

eval: install
	$(BIN)/python -m bench.quality

clean-index:
	rm -rf $(INDEX)/*
