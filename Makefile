# Peak Planner: two commands on a fresh machine.
#   make run    set up .venv and start the app on the bundled sample data
#   make test   set up .venv with dev tools and run the whole test suite
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8501
# Only this machine by default; serving a team needs a login in front (README).
ADDRESS ?= 127.0.0.1

.PHONY: run test bench lint venv dev-venv clean

$(VENV)/.runtime-stamp: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip "setuptools>=77"
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

$(VENV)/.dev-stamp: $(VENV)/.runtime-stamp requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

venv: $(VENV)/.runtime-stamp
dev-venv: $(VENV)/.dev-stamp

run: venv
	$(PY) -m streamlit run app.py --server.address $(ADDRESS) --server.port $(PORT) \
		--server.headless true --browser.gatherUsageStats false

test: dev-venv
	$(PY) -m pytest -n 2 --dist loadfile

bench: dev-venv
	@for f in bench/bench_*.py; do echo "== $$f"; $(PY) $$f || exit 1; done

lint: dev-venv
	$(PY) -m ruff check .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis test-artifacts
