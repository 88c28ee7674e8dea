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

run: $(VENV)/.runtime
	$(PY) -m streamlit run app.py --server.address 127.0.0.1 --server.port $(PORT)

# N replicas behind HAProxy (Debian's haproxy): see deploy/serve and README "Deploying".
REPLICAS ?= 2
serve: $(VENV)/.runtime
	$(PY) deploy/serve --replicas $(REPLICAS) --port $(PORT)

test: $(VENV)/.dev
	PYTHON=$(PY) bash scripts/run-tests

bench: $(VENV)/.dev
	for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache
