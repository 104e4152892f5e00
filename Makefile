# Tandem: the two commands a new machine needs are `make run` and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test venv lock lint clean

# Create or update .venv from the lock files (only when they changed).
venv: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(PY) || { PYBIN=$$(scripts/find-python) && echo "Using $$PYBIN" && $$PYBIN -m venv $(VENV); }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt -r requirements-dev.txt
	@touch $(STAMP)

# Install, migrate, seed the demo review and serve it with a Celery worker (Ctrl-C stops both).
run: venv
	@scripts/run-demo

# Install and run every test. Uses PostgreSQL and Redis when they answer (see DEVELOPERS.md);
# REQUIRE_SERVICES=1 makes a missing server, or any skipped test, fail the run.
test: venv
	$(PY) -m pytest $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check .

# Re-pin the dependencies after editing requirements*.in (needs network access to PyPI).
lock: venv
	$(PY) -m pip install --quiet uv
	$(VENV)/bin/uv pip compile --python-version 3.12 requirements.in -o requirements.txt
	$(VENV)/bin/uv pip compile --python-version 3.12 requirements-dev.in -o requirements-dev.txt

clean:
	rm -rf $(VENV) var/
