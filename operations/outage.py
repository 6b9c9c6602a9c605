"""What users and the log see while the database is unreachable or too slow.

* `server_error` (config.urls handler500; `bad_request`, handler400, for a session Django
  could not save): an OperationalError or InterfaceError from the database — refused or
  lost connection, no answer in time, a statement or lock timeout — answers 503 with
  `Retry-After` and a page in the user's language (JSON under the API) instead of the
  generic 500. The page tells a user who sent a form that nothing was saved only when that
  is certain: no write of the request committed (`WriteTracker`) and the failure was not
  in a COMMIT, whose outcome the client cannot know. Any other error keeps Django's page.
* `DatabaseOutageMiddleware` tracks the request's writes for that, and tells the log filter
  when the database answers again.
* `DatabaseOutageFilter` (on the console handler, config/settings.py LOGGING): the first
  failure of a burst is one short line, without the stack trace; later ones are counted,
  with a line "N more in the last M s" a minute at most, and one when the database answers
  again. Each process (gunicorn worker) counts its own.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

from django.contrib.sessions.exceptions import SessionInterrupted
from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connections
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.utils.translation import gettext as _
from django.views import defaults

RETRY_AFTER_SECONDS = 30
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
UNREACHABLE = (OperationalError, InterfaceError)
_WRITE = re.compile(
    r"^\s*(?:INSERT|UPDATE|DELETE|MERGE|REPLACE|UPSERT|TRUNCATE|CREATE|ALTER|DROP|COPY)\b"
    r"|^\s*WITH\b.*\b(?:INSERT|UPDATE|DELETE)\b",
    re.IGNORECASE | re.DOTALL,
)
# SQLSTATEs of a statement given up on: statement timeout (or cancel), lock timeout.
_TIMED_OUT = {"57014", "55P03"}


class WriteTracker:
    """An execute wrapper: did any write of this request reach the database for good?

    A write outside a transaction is saved when it returns; one inside a transaction when
    the transaction commits (`on_commit`, which Django drops when the transaction or its
    savepoint rolls back)."""

    def __init__(self) -> None:
        self.saved = False
        self.answered = False

    def _commit(self) -> None:
        self.saved = True

    def __call__(self, execute: Callable, sql: str, params: Any, many: bool, context: dict):
        result = execute(sql, params, many, context)
        self.answered = True
        if not self.saved and _WRITE.match(sql):
            connection = context["connection"]
            if connection.in_atomic_block:
                connection.on_commit(self._commit)
            else:
                self.saved = True
        return result


class DatabaseOutageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        tracker = WriteTracker()
        request.database_writes = tracker
        with connections[DEFAULT_DB_ALIAS].execute_wrapper(tracker):
            response = self.get_response(request)
        if tracker.answered and response.status_code < 500:
            outage_log.recovered()
        return response


def _failed_at_commit(traceback: TracebackType | None) -> bool:
    while traceback is not None:
        if traceback.tb_frame.f_code.co_name in ("commit", "_commit"):
            return True
        traceback = traceback.tb_next
    return False


def _timed_out(error: BaseException) -> bool:
    cause = error.__cause__
    return getattr(cause, "sqlstate", None) in _TIMED_OUT


# SQLSTATEs of a database that is away or too busy: connection exceptions (class 08),
# shutting down or starting (57P), too many connections, and the timeouts above. Anything
# else (a deadlock, a constraint, a missing column) is a bug or a conflict to be fixed, and
# keeps its 500 and its stack trace.
_AWAY_CLASSES = ("08", "57P")
_AWAY = _TIMED_OUT | {"53300"}
# SQLite's own words for a database that is busy or cannot be reached.
_SQLITE_AWAY = ("database is locked", "unable to open database", "disk i/o error")


def unreachable(error: BaseException | None) -> bool:
    """Whether `error` says the database is unreachable or too slow, as opposed to a
    failing statement. psycopg names it by SQLSTATE; a lost or refused connection, and the
    client-side bound (config/postgresql), come without one; SQLite by its message."""
    if not isinstance(error, UNREACHABLE):
        return False
    cause = error.__cause__
    state = getattr(cause, "sqlstate", None)
    if state:
        return state in _AWAY or state.startswith(_AWAY_CLASSES)
    if type(cause).__module__.startswith("sqlite3"):
        return any(words in str(error).lower() for words in _SQLITE_AWAY)
    return True


def database_error(error: BaseException | None) -> BaseException | None:
    """The unreachable database's error behind `error`, if any: `error` itself, or, for
    the SessionInterrupted (a 400) Django raises when a session save failed that way, what
    it was raised from. Not an error raised while handling one: that is a bug of its own."""
    if unreachable(error):
        return error
    if isinstance(error, SessionInterrupted):
        cause = error.__cause__ or error.__context__
        for _depth in range(4):
            if cause is None or unreachable(cause):
                return cause
            cause = cause.__cause__ or cause.__context__
    return None


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: 503 for the database being unreachable or too slow; else Django's 500."""
    error = database_error(sys.exc_info()[1])
    if error is None:
        return defaults.server_error(request)
    return unavailable(request, error)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler400: a session that could not be saved because of the database is an outage,
    not a bad request; else Django's 400."""
    error = database_error(exception)
    if error is None:
        return defaults.bad_request(request, exception)
    return unavailable(request, error)


def unavailable(request: HttpRequest, error: BaseException) -> HttpResponse:
    """The 503 answer (page, or JSON under the API) for a database error."""
    tracker = getattr(request, "database_writes", None)
    sent_form = request.method not in SAFE_METHODS
    nothing_saved = (
        sent_form
        and tracker is not None
        and not tracker.saved
        and not _failed_at_commit(error.__traceback__)
    )
    if _timed_out(error):
        reason = _("データベースの処理が時間内に終わりませんでした（混み合っています）。")
    else:
        reason = _("データベースに接続できません。")
    if not sent_form:
        saved = ""
    elif nothing_saved:
        saved = _("送信した内容は保存されていません。")
    else:
        saved = _(
            "送信した内容が保存されたかどうかを確認できませんでした。"
            "もう一度送信する前に、画面を開き直して確かめてください。"
        )
    from accounts.access import is_api_path

    if is_api_path(request):
        response: HttpResponse = JsonResponse(
            {"detail": " ".join(part for part in (reason, saved) if part)}, status=503
        )
    else:
        page = loader.render_to_string(
            "503.html",
            {"reason": reason, "saved": saved, "retry_after": RETRY_AFTER_SECONDS},
        )
        response = HttpResponse(page, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseOutageFilter(logging.Filter):
    """Collapses the log records of database failures into a line per burst (see above)."""

    def __init__(self, window: float = 60.0) -> None:
        super().__init__()
        self.window = window
        self.lock = threading.Lock()
        self.started: float | None = None  # when the current burst began
        self.seen = 0.0  # the last failure
        self.line_at = 0.0  # the last line written for the burst
        self.total = 0
        self.since_line = 0

    @staticmethod
    def is_outage(record: logging.LogRecord) -> bool:
        if getattr(record, "database_outage", False):
            return True
        return bool(record.exc_info) and database_error(record.exc_info[1]) is not None

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.is_outage(record):
            return True
        now = time.monotonic()
        with self.lock:
            if self.started is None or now - self.seen > self.window:
                earlier = self.since_line if self.started is not None else 0
                self.started, self.line_at, self.total, self.since_line = now, now, 1, 0
                self.seen = now
                self._rewrite(record, self._first_line(record, earlier))
                return True
            self.seen = now
            self.total += 1
            self.since_line += 1
            if now - self.line_at < self.window:
                return False
            line = (
                f"database still unavailable: {self.since_line} more failures in the last "
                f"{now - self.line_at:.0f} s ({self.total} since {now - self.started:.0f} s ago)"
            )
            self.line_at, self.since_line = now, 0
            self._rewrite(record, line)
            return True

    def _first_line(self, record: logging.LogRecord, earlier: int) -> str:
        error = database_error(record.exc_info[1]) if record.exc_info else None
        what = record.getMessage()
        if error is not None:
            detail = str(error).strip().splitlines()[0][:200] if str(error).strip() else ""
            what = f"{what} ({type(error).__name__}: {detail})"
        line = f"database unavailable: {what}; further failures are counted, not logged"
        if earlier:
            line += f" (the previous burst had {earlier} more failures)"
        return line

    @staticmethod
    def _rewrite(record: logging.LogRecord, message: str) -> None:
        record.msg, record.args = message, None
        record.exc_info, record.exc_text, record.stack_info = None, None, None

    def recovered(self) -> None:
        """The database answered a request: close the burst with its count."""
        if self.started is None:
            return
        with self.lock:
            if self.started is None:
                return
            now = time.monotonic()
            line = (
                f"database answering again after {now - self.started:.1f} s: "
                f"{self.total} failures in all, {self.since_line} more in the last "
                f"{now - self.line_at:.0f} s"
            )
            self.started = None
            self.since_line = 0
        logging.getLogger(__name__).warning(line)


outage_log = DatabaseOutageFilter()


def outage_log_filter() -> DatabaseOutageFilter:
    """The process's one filter, for LOGGING's `()` factory."""
    return outage_log
