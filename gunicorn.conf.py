"""gunicorn's settings for production: `.venv/bin/gunicorn -c gunicorn.conf.py`.

Sync workers, 2 x cores + 1 of them (WEB_CONCURRENCY overrides; 5 on the 2-core server
the project is sized for). Measured with benchmarks/faults.py (docs/scaling.md, Faults):
2 gthread workers of 4 threads logged contacts about as fast as 5 sync workers (within the
noise of a shared machine), but while a table was locked a gthread worker whose threads
all waited kept accepting requests and queued them (the case list's slowest answer 4.9 s
against 0.1 s). A sync worker stuck on the database holds only itself, and it is the kind
gunicorn restarts when a request overruns the worker timeout, the last bound if every
other fails (docs/architecture.md, "Faults and timeouts"). Each worker holds one database
connection (CONN_MAX_AGE), far below PostgreSQL's 100.

The worker timeout is WORKER_TIMEOUT, read with the database timeouts by config/timeouts.py,
which refuses a long statement timeout that would not end before it. A HUP or a recycled
worker lets requests under way finish for up to graceful_timeout, as long as the longest
export. With preload_app, HUP restarts the workers with the code the master loaded: a
deploy restarts the master (or USR2, then QUIT to the old one; README, production).
Workers are recycled after about a thousand requests, at staggered times,
so slow growth of memory cannot accumulate.
"""

import multiprocessing
import os
import sys
from pathlib import Path

import environ

_HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(_HERE))
# The same .env as the settings read (real environment variables win over it).
if (_HERE / ".env").exists():
    environ.Env.read_env(_HERE / ".env", overwrite=False)

from config.timeouts import from_environment  # noqa: E402 - after the path and .env

_timeouts = from_environment(os.environ)

wsgi_app = "config.wsgi"
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
worker_class = "sync"
workers = int(os.environ.get("WEB_CONCURRENCY", 2 * multiprocessing.cpu_count() + 1))
timeout = _timeouts.worker
graceful_timeout = _timeouts.worker
# Behind the TLS proxy, which holds the client connections: a short keep-alive suffices.
keepalive = 5
max_requests = 1000
max_requests_jitter = 100
# Load the application once in the master: a missing key stops the start with its message
# instead of every worker failing in turn, and the workers share its memory.
preload_app = True

# Access log on stdout without query strings (%(U)s is the path alone; the request line
# %(r)s, the query %(q)s and the referrer %(f)s would carry search terms and filters).
# Case codes in paths are pseudonymous. The request id matches the application's log.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
access_log_format = (
    '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms %({x-request-id}o)s "%(a)s"'
)
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
