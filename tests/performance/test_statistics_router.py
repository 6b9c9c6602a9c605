"""The statistics replica (config/routers.py): report and metric reads go to the
`statistics` alias, every write and every other read to `default`.

In the test session `statistics` is a test mirror of the default database (tests/conftest.py),
a second connection to the same data, so queries can be told apart by the connection that
ran them. The tests commit (transaction=True): a replica only sees committed rows.
"""

from __future__ import annotations

import os
import subprocess
import sys
from types import SimpleNamespace

import pytest
from django.conf import settings as django_settings
from django.db import connections, router, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from casework import services as casework
from casework.models import Contact
from casework.periods import fiscal_year
from config.routers import StatisticsRouter
from indicators import services as indicator_services
from indicators.models import Direction, Indicator, Plan
from indicators.reports import progress_report

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "statistics"])

WRITES = ("INSERT", "UPDATE", "DELETE")


@pytest.fixture(autouse=True)
def statistics_router(settings):
    settings.DATABASE_ROUTERS = ["config.routers.StatisticsRouter"]


@pytest.fixture
def centre(transactional_db, world):
    org, counsellor = world.centre, world.counsellor
    case = casework.open_case(counsellor, identity={"name": "統計 太郎"})
    for _ in range(3):
        casework.log_contact(counsellor, case=case, summary="記録")
    year = fiscal_year(timezone.localdate())
    plan = Plan.objects.create(name="計画", organisation=org, first_year=year, last_year=year)
    direction = Direction.objects.create(plan=plan, number=1, name="方向")
    Indicator.objects.create(
        direction=direction, code="1", name="相談件数", unit="件", metric="contacts"
    )
    return SimpleNamespace(
        org=org,
        counsellor=counsellor,
        supervisor=world.supervisor,
        case=case,
        plan=plan,
        year=year,
    )


def captured(alias: str) -> CaptureQueriesContext:
    return CaptureQueriesContext(connections[alias])


def counting_contacts(context: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in context.captured_queries if '"casework_contact"' in q["sql"]]


def test_report_figures_are_read_from_the_statistics_database(centre):
    with captured("default") as primary, captured("statistics") as replica:
        report = progress_report(
            centre.plan, year=centre.year, as_of=timezone.localdate(), exact=True
        )
    assert report.rows[0].actual.value == 3
    assert counting_contacts(replica)
    assert counting_contacts(primary) == []


def test_report_and_metric_pages_count_on_the_statistics_database(client, centre):
    client.force_login(centre.supervisor)
    for url in (
        reverse("indicators:progress", kwargs={"pk": centre.plan.pk}),
        reverse("indicators:metric", kwargs={"key": "contacts"}),
    ):
        with captured("default") as primary, captured("statistics") as replica:
            response = client.get(url)
        assert response.status_code == 200
        assert counting_contacts(replica), url
        assert counting_contacts(primary) == [], url
        # The session, the user and the audit trail stay on the primary.
        assert any('"django_session"' in q["sql"] for q in primary.captured_queries)


def test_writes_never_go_to_the_statistics_database(centre):
    with captured("statistics") as replica, captured("default") as primary:
        casework.log_contact(centre.counsellor, case=centre.case, summary="追記")
        indicator_services.submit_report(
            centre.supervisor, centre.plan, year=centre.year, as_of=timezone.localdate()
        )
    written = [q["sql"] for q in replica.captured_queries if q["sql"].lstrip().startswith(WRITES)]
    assert written == []
    assert counting_contacts(replica)  # the submitted report counted on the replica
    assert any(q["sql"].startswith("INSERT") for q in primary.captured_queries)
    assert Contact.objects.filter(case=centre.case).count() >= 4


def test_reads_inside_a_transaction_stay_on_the_primary(centre):
    """A replica cannot see a transaction's own rows: inside one, the figures come from
    the primary and include them."""
    with transaction.atomic(), captured("statistics") as replica:
        casework.log_contact(centre.counsellor, case=centre.case, summary="未確定")
        report = progress_report(
            centre.plan, year=centre.year, as_of=timezone.localdate(), exact=True
        )
    assert report.rows[0].actual.value == 4
    assert replica.captured_queries == []


def test_other_reads_use_the_primary(client, centre):
    client.force_login(centre.counsellor)
    with captured("statistics") as replica:
        assert client.get(reverse("casework:case_list")).status_code == 200
        assert (
            client.get(
                reverse("casework:case_detail", kwargs={"code": centre.case.code})
            ).status_code
            == 200
        )
    assert replica.captured_queries == []


def test_migrations_run_on_the_primary_only():
    assert router.allow_migrate("default", "casework")
    assert not router.allow_migrate("statistics", "casework")
    assert StatisticsRouter().db_for_write(Contact) == "default"


def _settings_in_subprocess(**env: str) -> str:
    base = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "SECRET_KEY": "x" * 50,
        "FIELD_ENCRYPTION_KEYS": os.environ["FIELD_ENCRYPTION_KEYS"],
        "BLIND_INDEX_KEY": os.environ["BLIND_INDEX_KEY"],
        "DATABASE_URL": "postgres://app@primary.example:5432/casework",
    }
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'config.settings'; "
        "from django.conf import settings; "
        "print(sorted(settings.DATABASES), settings.DATABASE_ROUTERS, "
        "settings.DATABASES.get('statistics', {}).get('HOST'))"
    )
    result = subprocess.run(  # noqa: S603 - our own settings module, fixed code
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**base, **env},
        cwd=django_settings.BASE_DIR,
        timeout=60,
        check=True,
    )
    return result.stdout.strip()


@pytest.mark.django_db(databases=[])
def test_the_replica_is_wired_only_when_statistics_database_url_is_set():
    assert _settings_in_subprocess() == "['default'] [] None"
    assert _settings_in_subprocess(
        STATISTICS_DATABASE_URL="postgres://reader@replica.example:5432/casework"
    ) == ("['default', 'statistics'] ['config.routers.StatisticsRouter'] replica.example")
