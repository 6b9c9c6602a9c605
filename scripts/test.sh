#!/usr/bin/env bash
# The whole suite: lint (ruff, mypy, the import contracts), migrations in sync, then pytest
# on SQLite and on PostgreSQL.
# PostgreSQL is found at $TEST_POSTGRES_URL (default: postgres@127.0.0.1:5432, trust auth).
# Without it a developer's run skips that pass and says so; in CI (CI set) it fails.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh

echo "== lint"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "== types (mypy) and layers (import-linter)"
.venv/bin/mypy .
.venv/bin/lint-imports
echo "== migrations in sync with models"
.venv/bin/python manage.py makemigrations --check --dry-run --verbosity 0

echo "== pytest on SQLite"
DATABASE_URL="sqlite:///$(mktemp -d)/test.sqlite3" \
  .venv/bin/python -m pytest -m "not postgres" "$@"

postgres_url=${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/hikikomori}
if .venv/bin/python - "$postgres_url" <<'PY'
import sys
from urllib.parse import urlsplit

import psycopg

url = urlsplit(sys.argv[1])
try:
    psycopg.connect(
        host=url.hostname, port=url.port or 5432, user=url.username or "postgres",
        password=url.password, dbname="postgres", connect_timeout=5,
    ).close()
except psycopg.Error as exc:
    print(f"PostgreSQL not reachable: {exc}".strip(), file=sys.stderr)
    sys.exit(1)
PY
then
  echo "== pytest on PostgreSQL"
  DATABASE_URL="$postgres_url" .venv/bin/python -m pytest "$@"
elif [ -n "${CI:-}" ]; then
  echo "FAILED: CI must run the suite on PostgreSQL, which is not reachable." >&2
  exit 1
else
  echo "SKIPPED the PostgreSQL pass: no server reachable (set TEST_POSTGRES_URL)." >&2
fi
