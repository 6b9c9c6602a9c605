"""Generate realistic casework data at a given scale, fast, for the benchmarks.

    .venv/bin/python benchmarks/generate.py --cases 100000 --contacts 1000000 \
        --database-url postgres://postgres@127.0.0.1:5432/hk_bench_main --create

Into the database named by --database-url (or DATABASE_URL; PostgreSQL or SQLite), after
migrating it: the Mie regions and municipalities (the seeded ones when present), the centre
and partners; staff at every organisation (counsellors, outreach workers, supervisors, MDT
members, one statistics viewer and one auditor); then, in the demo's proportions, cases
with their clients (about 9 in 10 cases have a registered person), contacts (about 12% of
them anonymous), milestones, outreach visits (the done ones own the contact they logged),
meetings with agenda items, actions and external attendance, MDT object grants, programmes
with sessions and attendance grids, and referrals with their transitions. Spread over the
last three fiscal years, ending now.

Cases, clients, contacts and milestones go in through casework's bulk writers
(`casework.writers`), the same code the application's services write through: identity,
summaries and notes are encrypted as the application encrypts them (each case and each
client its own data key, a case's contacts under the case's key, anonymous contacts under
their organisation's key for the fiscal year), the blind indexes, codes, birth years,
attribute snapshots, last-contact times and lead workers are set, and each record has its
history row. The other apps' rows (visits, agenda items, referrals, ...) go in with
`bulk_create` (benchmarks/generator_apps.py). No audit events are written.

Cases are built in chunks small enough that every data key of a chunk stays in the
process's data-key cache (4,096 entries) while its rows are encrypted.

The keys and the bench users' password are written to --env-file (default
/tmp/hk_bench/<database>.env), which the other benchmarks read to open the same data;
an existing env file is reused, so a second run adds to the same database.
Prints the rows of each table and the seconds taken.
"""

from __future__ import annotations

import argparse
import base64
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from generator import BENCH_USERS, Generator  # noqa: E402 (after the path is set)

__all__ = ["BENCH_USERS", "configure", "ensure_plan"]


# --- configuration ---------------------------------------------------------------------------


def default_env_file(database_url: str) -> Path:
    name = Path(urlsplit(database_url).path).name.removesuffix(".sqlite3") or "bench"
    return Path(tempfile.gettempdir()) / "hk_bench" / f"{name}.env"


def read_env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        name, _, value = line.partition("=")
        if name:
            values[name] = value
    return values


def configure(database_url: str | None = None, env_file: Path | None = None) -> dict[str, str]:
    """Set up Django for a benchmark database: keys from the env file (made when missing,
    so that data written once can be read by every later benchmark), then migrate."""
    if env_file is None:
        if database_url is None:
            raise SystemExit("give --database-url or --env-file")
        env_file = default_env_file(database_url)
    if env_file.exists():
        values = read_env_file(env_file)
        if database_url and values.get("DATABASE_URL") != database_url:
            raise SystemExit(f"{env_file} belongs to {values.get('DATABASE_URL')}")
    else:
        if database_url is None:
            raise SystemExit(f"{env_file} does not exist")
        values = {
            "DATABASE_URL": database_url,
            "SECRET_KEY": secrets.token_urlsafe(50),
            "FIELD_ENCRYPTION_KEYS": "bench:" + base64.b64encode(os.urandom(32)).decode(),
            "BLIND_INDEX_KEY": base64.b64encode(os.urandom(32)).decode(),
            "BENCH_PASSWORD": secrets.token_urlsafe(16),
        }
        env_file.parent.mkdir(parents=True, exist_ok=True)
        env_file.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
        env_file.chmod(0o600)
    for name in ("DATABASE_URL", "SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "BLIND_INDEX_KEY"):
        os.environ[name] = values[name]
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ.setdefault("DEBUG", "false")
    os.environ["TWO_FACTOR_ENFORCED"] = "false"
    # Requests from Django's test client and plain HTTP on loopback.
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
    os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
    os.environ.setdefault("STATIC_MANIFEST", "false")
    import config

    # A benchmark process is an operator's script, like a management command: no statement
    # timeouts (the HTTP benchmarks' gunicorn keeps the web requests' bounds).
    config.COMMAND_LINE = True
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    values["ENV_FILE"] = str(env_file)
    # The machine may be shared: say how busy it was, next to the figures.
    print(f"load average (1, 5 min): {os.getloadavg()[0]:.1f}, {os.getloadavg()[1]:.1f}")
    return values


def create_postgres_database(database_url: str) -> None:
    import psycopg

    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    server = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(server, autocommit=True) as admin:
        found = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not found:
            admin.execute(f'CREATE DATABASE "{name}"')


def ensure_plan():
    """The benchmarks' plan: the centre's, one indicator per registered metric, with
    targets for the current fiscal year (made once, then reused)."""
    from django.utils import timezone

    from accounts.models import Organisation
    from casework.periods import fiscal_year
    from indicators import metrics
    from indicators.models import Direction, Indicator, Plan, Target

    year = fiscal_year(timezone.localdate())
    centre = Organisation.objects.filter(kind=Organisation.Kind.PREFECTURE_CENTRE).first()
    plan = Plan.objects.filter(name="bench", organisation=centre).first()
    if plan is not None:
        return plan
    plan = Plan.objects.create(
        name="bench", organisation=centre, first_year=year - 2, last_year=year + 2
    )
    direction = Direction.objects.create(plan=plan, number=1, name="all")
    for i, key in enumerate(metrics.REGISTRY):
        indicator = Indicator.objects.create(
            direction=direction, code=str(i), name=key, unit="件", metric=key
        )
        Target.objects.create(indicator=indicator, fiscal_year=year, value=100)
    return plan


def analyze() -> float:
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        # Bulk-loaded tables: statistics for the planner, and the visibility map that lets
        # index-only scans skip the table (autovacuum would do both, later).
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=10)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--env-file", type=Path)
    parser.add_argument(
        "--create", action="store_true", help="create the PostgreSQL database if missing"
    )
    args = parser.parse_args()
    if args.database_url is None:
        raise SystemExit("give --database-url or set DATABASE_URL")
    if args.create and args.database_url.startswith("postgres"):
        create_postgres_database(args.database_url)
    values = configure(args.database_url, args.env_file or default_env_file(args.database_url))
    from django.db import connection

    print(
        f"generating {args.cases:,} cases and {args.contacts:,} contacts into "
        f"{connection.vendor} {connection.settings_dict['NAME']} (env: {values['ENV_FILE']})"
    )
    generator = Generator(
        cases=args.cases, contacts=args.contacts, seed=args.seed, password=values["BENCH_PASSWORD"]
    )
    generator.run()
    analyzed = analyze()
    print(f"{'table':<40}{'rows':>12}{'insert s':>10}")
    for table, rows in sorted(generator.counts.items()):
        print(f"{table:<40}{rows:>12,}{generator.seconds[table]:>10.1f}")
    print(f"total {generator.seconds['total']:.0f} s (+ VACUUM ANALYZE {analyzed:.1f} s)")


if __name__ == "__main__":
    main()
