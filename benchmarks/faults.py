"""Fault benchmark: the application under gunicorn, under load, while its PostgreSQL is
killed, frozen and locked.

Starts its own PostgreSQL instance (initdb in a temporary folder, as the `postgres` user
when run as root; fsync and synchronous commit on, as in production), migrates a database
in it, creates an organisation with counsellors and cases, and starts gunicorn with the
shipped gunicorn.conf.py (its workers and timeouts; the database timeouts at their
defaults). Client threads sign in through the login form and log contacts through the
contact form as fast as the server takes them, each with a unique marker in its summary; a
reader thread polls the case list and /healthz. Then, one after another:

  kill    SIGKILL to every PostgreSQL process (a crash), restart after --outage seconds;
  freeze  SIGSTOP to every PostgreSQL process for --freeze seconds, then SIGCONT;
  lock    a session holds LOCK TABLE casework_contact (ACCESS EXCLUSIVE) for --outage s,

with --settle seconds of normal work after each. Printed per fault: the writes
acknowledged and failed while it lasted and afterwards (by kind: 503 page, other answers,
no answer), the slowest answer, what the case list and /healthz answered meanwhile, and
the time to recover (from the end of the fault to the first write acknowledged after it).
Then the data check: every acknowledged write present exactly once with its audit event
(data lost must be 0), writes present that the client never saw acknowledged, the audit
chain's verification, and how many lines the application's log took.

Usage:  .venv/bin/python benchmarks/faults.py [--clients 4] [--outage 8] [--freeze 16]
          [--settle 10] [--port 8791] [--faults kill,freeze,lock|none]
          [--gunicorn-args '--worker-class gthread --threads 4 --workers 2'] [--keep]
Runs in about three minutes on 2 cores; needs the PostgreSQL server binaries
(Debian: postgresql; /usr/lib/postgresql/*/bin).
"""

from __future__ import annotations

import argparse
import base64
import datetime
import http.client
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import CSRF_FIELD, server_env, sign_in, wait_for_health
from _postgres import Postgres

ROOT = Path(__file__).resolve().parent.parent

TOKYO = ZoneInfo("Asia/Tokyo")  # the application's time zone
MARKER = re.compile(r"fault-bench (\d+)-(\d+)")
REQUEST_TIMEOUT = 45  # above gunicorn's worker timeout: a killed worker shows as an error


# --- the application ------------------------------------------------------------------------


def application_env(database_url: str) -> dict[str, str]:
    keys = {
        "DATABASE_URL": database_url,
        "SECRET_KEY": secrets.token_urlsafe(50),
        "FIELD_ENCRYPTION_KEYS": "bench:" + base64.b64encode(os.urandom(32)).decode(),
        "BLIND_INDEX_KEY": base64.b64encode(os.urandom(32)).decode(),
    }
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "PG"))}
    return server_env(keys, base)


def prepare(env: dict[str, str], clients: int) -> tuple[str, list[tuple[str, str]]]:
    """Migrate, and create the staff and cases (in this process, as a management command
    would). Returns the password and (username, case code) per client."""
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    import config

    config.COMMAND_LINE = True
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.contrib.auth.models import Group

    from accounts.models import Organisation, User
    from accounts.roles import Role
    from casework import services

    password = secrets.token_urlsafe(16)
    org = Organisation.objects.create(
        kind=Organisation.Kind.PREFECTURE_CENTRE, name="障害試験センター"
    )
    pairs = []
    for i in range(clients):
        user = User.objects.create_user(f"fault{i}", password=password, organisation=org)
        user.groups.add(Group.objects.get(name=Role.COUNSELLOR.value))
        case = services.open_case(user, identity={"name": f"障害試験 {i}"})
        pairs.append((user.username, case.code))
    return password, pairs


def start_gunicorn(
    env: dict[str, str], port: int, folder: Path, extra: list[str]
) -> subprocess.Popen:
    log = open(folder / "gunicorn.log", "ab")  # noqa: SIM115 - kept for the run
    return subprocess.Popen(  # noqa: S603
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "-c",
            str(ROOT / "gunicorn.conf.py"),
            "--bind",
            f"127.0.0.1:{port}",
            "--access-logfile",
            str(folder / "access.log"),
            *extra,
        ],
        cwd=ROOT,
        env={**env, "GUNICORN_LOG_LEVEL": "warning"},
        stdout=log,
        stderr=log,
    )


# --- load -----------------------------------------------------------------------------------


@dataclass
class Result:
    kind: str  # write | page | health
    started: float
    ended: float
    outcome: str  # ok | 503 | http NNN | no answer
    marker: str = ""


@dataclass
class Load:
    port: int
    results: list[Result] = field(default_factory=list)
    acknowledged: set[str] = field(default_factory=set)
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def request(
        self, method: str, path: str, cookie: str, body: str | None = None
    ) -> tuple[int, str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=REQUEST_TIMEOUT)
        headers = {"Cookie": cookie, "Referer": f"http://127.0.0.1:{self.port}{path}"}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            return response.status, response.read().decode(errors="replace")
        finally:
            conn.close()

    def note(self, result: Result) -> None:
        with self.lock:
            self.results.append(result)
            if result.kind == "write" and result.outcome == "ok":
                self.acknowledged.add(result.marker)

    def writer(self, number: int, cookie: str, case_code: str) -> None:
        _status, page = self.request("GET", f"/contacts/new/?case={case_code}", cookie)
        token = CSRF_FIELD.search(page).group(1)
        n = 0
        while not self.stop.is_set():
            n += 1
            marker = f"{number}-{n}"
            body = urllib.parse.urlencode(
                {
                    "csrfmiddlewaretoken": token,
                    "case_code": case_code,
                    "occurred_at": datetime.datetime.now(TOKYO).strftime("%Y-%m-%dT%H:%M"),
                    "channel": "phone",
                    "consulter": "parent",
                    "kind": "continuing",
                    "minutes": "10",
                    "summary": f"fault-bench {marker}",
                    "age_band": "20s",
                    "gender": "male",
                    "municipality": "",
                }
            )
            self.note(self._timed("write", "POST", "/contacts/new/", cookie, body, marker, ok=302))

    def reader(self, cookie: str) -> None:
        while not self.stop.is_set():
            self.note(self._timed("page", "GET", "/cases/", cookie, None, "", ok=200))
            self.note(self._timed("health", "GET", "/healthz", "", None, "", ok=200))
            time.sleep(0.25)

    def _timed(self, kind, method, path, cookie, body, marker, *, ok: int) -> Result:
        started = time.monotonic()
        try:
            status, _ = self.request(method, path, cookie, body)
            outcome = "ok" if status == ok else ("503" if status == 503 else f"http {status}")
        except OSError:
            outcome = "no answer"
        return Result(kind, started, time.monotonic(), outcome, marker)


def sign_in_cookie(load: Load, username: str, password: str) -> str:
    cookies = sign_in(load.port, username, password)
    return f"sessionid={cookies['sessionid']}; csrftoken={cookies['csrftoken']}"


# --- faults and the report ------------------------------------------------------------------


@dataclass
class Fault:
    name: str
    began: float
    ended: float = 0.0
    until: float = 0.0  # the end of the settling time after it
    note: str = ""


def _outcomes(rows: list[Result]) -> str:
    counts = Counter(r.outcome for r in rows)
    failed = {k: v for k, v in counts.items() if k != "ok"}
    return ", ".join(
        [f"{counts.get('ok', 0)} ok"] + [f"{v} {k}" for k, v in sorted(failed.items())]
    )


def _slowest(rows: list[Result]) -> str:
    return f"{max((r.ended - r.started for r in rows), default=0):.1f} s"


def summarise_baseline(results: list[Result], start: float, end: float) -> None:
    writes = [r for r in results if r.kind == "write" and start <= r.started and r.ended < end]
    took = sorted(r.ended - r.started for r in writes)
    print(f"\nbaseline, {end - start:.0f} s without a fault")
    print(
        f"  writes: {_outcomes(writes)} ({len(writes) / (end - start):.1f}/s); "
        f"p50 {took[len(took) // 2] * 1000:.0f} ms, slowest {took[-1] * 1000:.0f} ms"
    )
    for kind, label in (("page", "case list"), ("health", "/healthz")):
        rows = [r for r in results if r.kind == kind and start <= r.started and r.ended < end]
        print(f"  {label}: {_outcomes(rows)}; slowest {_slowest(rows)}")


def summarise(fault: Fault, results: list[Result]) -> None:
    """Requests in flight at any time during the fault count as during it; those started
    after it ended (until the next fault) as after it."""

    def during(kind: str) -> list[Result]:
        return [
            r
            for r in results
            if r.kind == kind and r.ended >= fault.began and r.started < fault.ended
        ]

    def after(kind: str, since: float) -> list[Result]:
        return [r for r in results if r.kind == kind and since <= r.started < fault.until]

    acknowledged_after = [r.ended for r in after("write", fault.ended) if r.outcome == "ok"]
    recovered = min(acknowledged_after, default=None)
    print(f"\n{fault.name}: {fault.ended - fault.began:.1f} s{fault.note}")
    print(
        f"  writes during   : {_outcomes(during('write'))}; slowest answer {_slowest(during('write'))}"
    )
    print(f"  case list during: {_outcomes(during('page'))}; slowest {_slowest(during('page'))}")
    print(
        f"  /healthz during : {_outcomes(during('health'))}; slowest {_slowest(during('health'))}"
    )
    print(
        f"  writes after    : {_outcomes(after('write', fault.ended))}; slowest answer {_slowest(after('write', fault.ended))}"
    )
    if recovered is None:
        print("  recovered: NO write acknowledged after the fault")
        return
    late = [
        r for r in results if r.kind in ("write", "page") and recovered <= r.started < fault.until
    ]
    print(
        f"  time to recover (fault end to the first acknowledged write after it): "
        f"{recovered - fault.ended:.2f} s; errors after that: "
        f"{sum(r.outcome != 'ok' for r in late)} of {len(late)} requests"
    )


def verify(load: Load) -> int:
    """Every acknowledged write present exactly once, with its audit event; the chain."""
    from django.db import close_old_connections

    close_old_connections()
    from audit.models import Action, Event
    from audit.services import verify_chain
    from casework.models import Contact

    found: Counter[str] = Counter()
    pks: dict[str, str] = {}
    for contact in Contact.objects.filter(staff__username__startswith="fault"):
        match = MARKER.search(contact.summary or "")
        if match:
            marker = f"{match.group(1)}-{match.group(2)}"
            found[marker] += 1
            pks[marker] = str(contact.pk)
    audited = set(
        Event.objects.filter(action=Action.CREATE, object_type="casework.Contact").values_list(
            "object_ref", flat=True
        )
    )
    lost = load.acknowledged - set(found)
    duplicated = [m for m, n in found.items() if n > 1]
    unaudited = [m for m in found if pks[m] not in audited]
    unacknowledged = set(found) - load.acknowledged
    chain = verify_chain()
    print("\ndata check")
    print(
        f"  acknowledged writes: {len(load.acknowledged)}; present: {len(load.acknowledged & set(found))}"
    )
    print(f"  DATA LOST (acknowledged, not in the database): {len(lost)}")
    print(f"  duplicated: {len(duplicated)}; without their audit event: {len(unaudited)}")
    print(f"  present though the client saw no acknowledgement: {len(unacknowledged)}")
    print(
        f"  audit chain: {'verifies' if chain.ok else f'BROKEN at seq {chain.first_bad_seq}: {chain.problem}'} ({Event.objects.count()} events)"
    )
    return len(lost) + len(duplicated) + len(unaudited) + (0 if chain.ok else 1)


def kill(args: argparse.Namespace, pg: Postgres) -> Fault:
    fault = Fault("kill (SIGKILL to every PostgreSQL process, restart)", time.monotonic())
    pg.kill()
    time.sleep(args.outage)
    restart = pg.start()
    fault.ended = time.monotonic()
    fault.note = (
        f" until the server accepted connections again, {restart:.1f} s of it its restart "
        "(crash recovery)"
    )
    time.sleep(args.settle)
    fault.until = time.monotonic()
    return fault


def freeze(args: argparse.Namespace, pg: Postgres) -> Fault:
    fault = Fault("freeze (SIGSTOP, then SIGCONT)", time.monotonic())
    pg.signal(signal.SIGSTOP)
    time.sleep(args.freeze)
    pg.signal(signal.SIGCONT)
    fault.ended = time.monotonic()
    time.sleep(args.settle)
    fault.until = time.monotonic()
    return fault


def lock(args: argparse.Namespace, pg: Postgres) -> Fault:
    import psycopg

    fault = Fault("lock (LOCK TABLE casework_contact IN ACCESS EXCLUSIVE MODE)", time.monotonic())
    holder = psycopg.connect(pg.url("hk_faults"))
    holder.execute("LOCK TABLE casework_contact IN ACCESS EXCLUSIVE MODE")
    time.sleep(args.outage)
    holder.rollback()
    holder.close()
    fault.ended = time.monotonic()
    time.sleep(args.settle)
    fault.until = time.monotonic()
    return fault


FAULTS = {"kill": kill, "freeze": freeze, "lock": lock}


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=4, help="writer threads")
    parser.add_argument("--outage", type=float, default=8, help="seconds down (kill) and locked")
    parser.add_argument("--freeze", type=float, default=16, help="seconds stopped (SIGSTOP)")
    parser.add_argument(
        "--settle", type=float, default=10, help="seconds of normal work after each"
    )
    parser.add_argument("--port", type=int, default=8791)
    parser.add_argument(
        "--faults",
        type=lambda v: v.split(","),
        default=["kill", "freeze", "lock"],
        help="comma-separated, in order: kill, freeze, lock; 'none' for the load alone",
    )
    parser.add_argument(
        "--gunicorn-args",
        default="",
        help="added to gunicorn's command line, e.g. '--worker-class gthread --threads 4'",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs)")
    return parser.parse_args()


def start_database(
    args: argparse.Namespace, pg: Postgres
) -> tuple[dict[str, str], str, list[tuple[str, str]]]:
    """The database, migrated and seeded; returns the application's environment, the
    staff's password and (username, case code) per client."""
    pg.initdb()
    pg.start()
    import psycopg

    with psycopg.connect(pg.url("postgres"), autocommit=True) as admin:
        admin.execute("CREATE DATABASE hk_faults")
    env = application_env(pg.url("hk_faults").replace("postgresql://", "postgres://"))
    t0 = time.monotonic()
    password, pairs = prepare(env, args.clients)
    print(
        f"PostgreSQL {pg.bin.parent.name} (own instance, port {pg.port}); migrated and seeded in {time.monotonic() - t0:.0f} s"
    )
    print(f"load average (1, 5 min): {os.getloadavg()[0]:.1f}, {os.getloadavg()[1]:.1f}")
    return env, password, pairs


def print_settings(args: argparse.Namespace, env: dict[str, str]) -> None:
    from config.timeouts import from_environment

    workers = int(os.environ.get("WEB_CONCURRENCY", 2 * os.cpu_count() + 1))
    web = from_environment(env)
    print(
        f"gunicorn.conf.py ({workers} sync workers)"
        f"{', overridden by ' + args.gunicorn_args if args.gunicorn_args else ''}: "
        f"worker timeout {web.worker} s; database: "
        f"statement {web.statement:g} s, lock {web.lock:g} s, connect {web.connect} s, "
        f"client bound {web.client_wait():g} s, health bound {web.health:g} s"
    )


def load_threads(load: Load, password: str, pairs: list[tuple[str, str]]) -> list[threading.Thread]:
    """A writer per client and one reader, each signed in as the client's user."""
    cookies = [sign_in_cookie(load, username, password) for username, _ in pairs]
    reader_cookie = sign_in_cookie(load, pairs[0][0], password)
    threads = [
        threading.Thread(target=load.writer, args=(i, cookie, code), daemon=True)
        for i, ((_, code), cookie) in enumerate(zip(pairs, cookies, strict=True))
    ]
    threads.append(threading.Thread(target=load.reader, args=(reader_cookie,), daemon=True))
    return threads


def report(
    load: Load, baseline: tuple[float, float], faults: list[Fault], server, folder: Path
) -> None:
    """Each fault's figures, the application's log, and the data check."""
    with load.lock:
        results = list(load.results)
    summarise_baseline(results, *baseline)
    for fault in faults:
        summarise(fault, results)
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=60)
    log = (folder / "gunicorn.log").read_text(errors="replace").splitlines()
    print(
        f"\napplication log: {len(log)} lines in all, {sum('Traceback' in line for line in log)} "
        f"stack traces, {sum('database unavailable' in line for line in log)} 'database unavailable' lines, "
        f"{sum('WORKER TIMEOUT' in line for line in log)} worker timeouts"
    )
    problems = verify(load)
    print(f"\nresult: {'PASS' if problems == 0 else 'FAIL'} ({len(results)} requests)")


def main() -> None:
    args = arguments()
    folder = Path(tempfile.mkdtemp(prefix="hk_faults_"))
    pg = Postgres(folder)
    server = None
    load = Load(args.port)
    try:
        env, password, pairs = start_database(args, pg)
        server = start_gunicorn(env, args.port, folder, args.gunicorn_args.split())
        wait_for_health(args.port)
        print_settings(args, env)
        threads = load_threads(load, password, pairs)
        for thread in threads:
            thread.start()
        time.sleep(args.settle)
        baseline = (time.monotonic() - args.settle, time.monotonic())

        faults = [FAULTS[name](args, pg) for name in args.faults if name != "none"]

        load.stop.set()
        for thread in threads:
            thread.join(timeout=REQUEST_TIMEOUT + 5)
        report(load, baseline, faults, server, folder)
        if args.keep:
            print(f"logs kept in {folder}")
    finally:
        load.stop.set()
        if server is not None and server.poll() is None:
            server.kill()
        pg.stop()
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
