"""Benchmark: the case list, the case detail and the progress report over HTTP, under load.

Starts gunicorn on loopback against a database made by benchmarks/generate.py (the same
keys, from its env file), signs in through the real login form (a counsellor for the
casework pages, a supervisor for the report; the second-factor policy is off for this
run: wrk cannot pass a TOTP code), and drives each page with `wrk` for --seconds: requests
per second, p50/p99 latency, socket errors and non-2xx answers (counted by a Lua hook;
any is an error). Every case detail request writes its audit event, as in production.

Usage:  .venv/bin/python benchmarks/http_load.py --env-file /tmp/hk_bench/hk_bench_main.env
          [--workers 4] [--connections 8] [--seconds 20]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import case_with_contacts, server_env, sign_in, wait_for_health
from generate import BENCH_USERS, configure, ensure_plan

ROOT = Path(__file__).resolve().parent.parent

COUNT_ERRORS = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) bad = 0 end
function response(status, headers, body)
  if status < 200 or status > 299 then bad = bad + 1 end
end
function done(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + t:get("bad") end
  io.write(string.format("NON2XX %d\\n", total))
  io.write(string.format("P50US %d\\nP99US %d\\n", latency:percentile(50), latency:percentile(99)))
end
"""


def run_wrk(url: str, cookie: str, *, connections: int, seconds: int, script: Path) -> dict:
    result = subprocess.run(  # noqa: S603 - wrk with our arguments
        [
            shutil.which("wrk") or "wrk",
            f"-t{min(2, connections)}",  # wrk needs a connection per thread
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "30s",
            "-s",
            str(script),
            "-H",
            f"Cookie: {cookie}",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    out = result.stdout
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "p50": int(re.search(r"P50US (\d+)", out).group(1)) / 1000,
        "p99": int(re.search(r"P99US (\d+)", out).group(1)) / 1000,
        "non2xx": int(re.search(r"NON2XX (\d+)", out).group(1)),
        "socket_errors": sum(int(n) for n in socket_errors.groups()) if socket_errors else 0,
    }


def pages_to_drive(counsellor) -> list[tuple[str, str, str]]:
    """(name, who, path) of each page: the case list twice, the detail of a case with about
    200 contacts, the plan's progress report."""

    plan = ensure_plan()
    case, contacts = case_with_contacts(counsellor)
    return [
        ("case list (counsellor)", "counsellor", "/cases/"),
        ("case list, status filter, page 2", "counsellor", "/cases/?status=active&page=2"),
        (
            f"case detail ({contacts} contacts)",
            "counsellor",
            f"/cases/{case.code}/",
        ),
        ("progress report (supervisor)", "supervisor", f"/indicators/plans/{plan.pk}/"),
    ]


def start_gunicorn(values: dict[str, str], port: int, workers: int) -> subprocess.Popen:
    return subprocess.Popen(  # noqa: S603
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=server_env(values, os.environ),
    )


def drive(args: argparse.Namespace, pages: list, cookies: dict[str, str]) -> None:
    """Each page under wrk for --seconds; a line of figures per page."""
    # A whole fiscal-year report takes seconds at this size: two people at once is
    # realistic for it (the statistics are few people's work), eight for the case pages.
    concurrency = {"supervisor": max(1, args.connections // 4), "counsellor": args.connections}
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(COUNT_ERRORS)
    print(
        f"gunicorn {args.workers} sync workers; wrk up to 2 threads, "
        f"{args.seconds} s per page, timeout 30 s"
    )
    print(
        f"{'page':<38}{'conns':>6}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'requests':>10}{'errors':>8}"
    )
    total_errors = 0
    for name, who, path in pages:
        found = run_wrk(
            f"http://127.0.0.1:{args.port}{path}",
            cookies[who],
            connections=concurrency[who],
            seconds=args.seconds,
            script=Path(script.name),
        )
        errors = found["non2xx"] + found["socket_errors"]
        total_errors += errors
        print(
            f"{name:<38}{concurrency[who]:>6}{found['rps']:>8.1f}{found['p50']:>9.1f}{found['p99']:>9.1f}"
            f"{found['requests']:>10}{errors:>8}"
        )
    print(f"errors in all: {total_errors} (non-2xx and socket errors)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env-file", type=Path, required=True)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    values = configure(env_file=args.env_file)

    from accounts.models import User

    pages = pages_to_drive(User.objects.get(username=BENCH_USERS[0]))
    server = start_gunicorn(values, args.port, args.workers)
    try:
        wait_for_health(args.port)
        cookies = {
            who: "sessionid=" + sign_in(args.port, username, values["BENCH_PASSWORD"])["sessionid"]
            for who, username in (("counsellor", BENCH_USERS[0]), ("supervisor", BENCH_USERS[1]))
        }
        drive(args, pages, cookies)
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
