#!/usr/bin/env bash
# Make the project runnable on a fresh machine: virtual environment from the hash-pinned
# lock file, a local .env with fresh keys, compiled translations. Safe to run repeatedly.
set -euo pipefail
cd "$(dirname "$0")/.."

python_bin=${PYTHON:-}
if [ -z "$python_bin" ]; then
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      python_bin=$candidate
      break
    fi
  done
fi
if [ -z "$python_bin" ]; then
  echo "Python 3.11 is required (set PYTHON=/path/to/python3.11)." >&2
  exit 1
fi

if [ ! -x .venv/bin/python ]; then
  "$python_bin" -m venv .venv
fi
wanted=$(sha256sum requirements.lock | cut -d' ' -f1)
if [ "$(cat .venv/.lock-sha256 2>/dev/null || true)" != "$wanted" ]; then
  echo "Installing dependencies from requirements.lock ..."
  .venv/bin/python -m pip install --quiet --disable-pip-version-check \
    --require-hashes -r requirements.lock
  echo "$wanted" > .venv/.lock-sha256
fi

.venv/bin/python scripts/make_env.py
.venv/bin/python manage.py compilemessages --ignore=.venv --verbosity 0
