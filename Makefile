.PHONY: run test lint

# Set up everything on a fresh machine, seed the demo and serve it on localhost:8000.
run:
	scripts/run.sh

# The whole test suite, on SQLite and on PostgreSQL.
test:
	scripts/test.sh

# Style, types and the apps' dependency direction (the first step of `make test`).
lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check .
	.venv/bin/mypy .
	.venv/bin/lint-imports
