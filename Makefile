# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-fast install setup check audit bench screenshots vendor clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev,postgres,check]'
	touch $(STAMP)

install: $(STAMP)

setup: install
	$(BIN)/rehearse setup

run: setup
	$(BIN)/rehearse serve --host 127.0.0.1 --port 8000

# pytest exits 5 when it collected nothing: that is a failure, never a pass.
test: install
	@$(BIN)/python -m pytest $(PYTEST_ARGS); status=$$?; \
	if [ $$status -eq 5 ]; then echo "error: pytest collected no tests" >&2; exit 1; fi; exit $$status

# The quick loop: all but the browser tests (e2e), the real sandbox (sandbox) and the tests that
# start extra OS processes (processes); markers in tests/conftest.py. `make test` runs everything.
test-fast: install
	@$(BIN)/python -m pytest -m "not e2e and not sandbox and not processes" $(PYTEST_ARGS); status=$$?; \
	if [ $$status -eq 5 ]; then echo "error: pytest collected no tests" >&2; exit 1; fi; exit $$status

# Lint, strict types, the import contracts between packages (docs/architecture.md), and the audit.
check: install
	$(BIN)/ruff check webapp tests bench migrations .ci
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache
	@$(MAKE) --no-print-directory audit

# The installed packages against published advisories (pip-audit): fails on any; when the advisory
# source cannot be used it prints a warning and passes, or fails with REHEARSE_AUDIT_STRICT=1.
audit: install
	$(BIN)/python .ci/audit.py

# The README's pictures (static/screenshots/): a fresh site driven through the main journeys in Chromium.
screenshots: install
	$(BIN)/python -m tests.e2e.screenshots static/screenshots

# Benchmarks (minutes; not part of `make test`): writes docs/benchmarks.md.
# `make bench SUITES="bench.grading_capacity bench.feedback"` re-runs only those sections.
# Data-scale figures include PostgreSQL when the local server answers (it creates and drops its own database).
bench: install
	@command -v wrk >/dev/null || { echo "make bench needs wrk: apt-get install wrk" >&2; exit 1; }
	@if command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1 -p 5432; then \
		export REHEARSE_BENCH_DATABASE_URL=$${REHEARSE_BENCH_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test}; fi; \
	$(BIN)/python -m bench.run $(SUITES)

# The editor bundles (static/vendor/codemirror-*.min.js and live-*.min.js) from the packages pinned in
# static/build/package-lock.json; the same inputs give the same bytes (see static/vendor/README.md).
vendor:
	cd static/build && npm ci --no-audit --no-fund && node build.mjs

clean:
	rm -rf $(VENV) .pytest_cache
