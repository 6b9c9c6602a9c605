#!/usr/bin/env bash
# The demo: SQLite database, Mie's municipalities, one user per role, served on localhost.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
.venv/bin/python manage.py migrate --verbosity 0
.venv/bin/python manage.py seed_demo
# What statistics viewers and other organisations read (about a minute the first time).
.venv/bin/python manage.py publish_statistics
echo "Open http://${HOST:-127.0.0.1}:${PORT:-8000}/ and log in with a user printed above."
exec .venv/bin/python manage.py runserver "${HOST:-127.0.0.1}:${PORT:-8000}"
