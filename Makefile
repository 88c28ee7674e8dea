# Two commands do all the set-up: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PORT   ?= 8501

.PHONY: run serve test bench clean

# Stamps make installs incremental: pip runs again only when a requirements file changes.
$(VENV)/.runtime: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt $(VENV)/.runtime
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@

# axe-core (npm) for the browser accessibility test, pinned by the lock file.
AXE_DIR := tests/e2e/axe
$(AXE_DIR)/node_modules/.installed: $(AXE_DIR)/package-lock.json
	npm ci --prefix $(AXE_DIR) --no-audit --no-fund --silent
	touch $@

run: $(VENV)/.runtime
	$(PY) -m streamlit run app.py --server.address 127.0.0.1 --server.port $(PORT)

# N replicas behind HAProxy (Debian's haproxy): see deploy/serve and README "Deploying".
REPLICAS ?= 2
serve: $(VENV)/.runtime
	$(PY) deploy/serve --replicas $(REPLICAS) --port $(PORT)

test: $(VENV)/.dev $(AXE_DIR)/node_modules/.installed
	PYTHON=$(PY) bash scripts/run-tests

bench: $(VENV)/.dev
	for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache $(AXE_DIR)/node_modules
