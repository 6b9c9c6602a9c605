"""Retention by crypto-shredding: `purge_expired` destroys the data keys of closed cases
past retention (and of cases merged into them, their client's once no readable case is
left, and old anonymous contacts' organisation-year keys). Content becomes unreadable in
live and history tables; rows and every report figure stay."""

from __future__ import annotations

import datetime
import io
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.urls import reverse

from audit.models import Action, Event
from casework import crypto
from casework.fields import Erased
from casework.models import Case, Contact, DataKey
from indicators.models import Direction, Indicator, Plan
from indicators.reports import progress_report
from tests.factories import make_case, make_client

TODAY = datetime.date(2026, 11, 23)  # retention 5 years: cut-off 2021-11-23
SECRET = "消去対象の相談内容"


def _contact(case, org, staff, day, summary=SECRET):
    key = (
        case.data_key
        if case
        else DataKey.for_organisation_year(org.pk, 2019 if day.year < 2020 else day.year)
    )
    contact = Contact.objects.create(
        organisation=org,
        staff=staff,
        case=case,
        occurred_at=datetime.datetime.combine(
            day, datetime.time(10), tzinfo=ZoneInfo("Asia/Tokyo")
        ),
        data_key=key,
        summary=summary,
    )
    contact.summary = summary + "（追記）"
    contact.save()  # a history row with the text too
    return contact


@pytest.fixture
def records(world):
    org, staff = world.centre, world.supervisor
    person = make_client(org, name="消去 太郎", phone="000-0000-1234")
    old = make_case(
        org,
        client=person,
        summary=SECRET,
        status="closed",
        opened_on=datetime.date(2019, 5, 1),
        closed_on=datetime.date(2020, 3, 1),
    )
    duplicate = make_case(
        org,
        summary=SECRET,
        status="closed",
        opened_on=datetime.date(2019, 6, 1),
        closed_on=datetime.date(2019, 7, 1),
        closure_reason="merged",
    )
    Case.objects.filter(pk=duplicate.pk).update(merged_into=old)
    recent = make_case(
        org,
        summary="残る",
        status="closed",
        opened_on=datetime.date(2023, 5, 1),
        closed_on=datetime.date(2024, 3, 1),
    )
    active = make_case(org, summary="支援中", opened_on=datetime.date(2019, 4, 10))
    for case in (old, old, duplicate, recent, active):
        _contact(case, org, staff, datetime.date(2019, 8, 1))
    anonymous_old = _contact(None, org, staff, datetime.date(2019, 9, 1))
    anonymous_new = _contact(None, org, staff, datetime.date(2025, 9, 1), summary="新しい匿名")
    plan = Plan.objects.create(name="保存期間", organisation=org, first_year=2019, last_year=2021)
    direction = Direction.objects.create(plan=plan, number=1, name="方向")
    for i, metric in enumerate(["contacts", "people_supported", "new_consultations"]):
        Indicator.objects.create(
            direction=direction, code=str(i), name=metric, unit="件", metric=metric
        )
    return locals()


def _figures(plan):
    return progress_report(plan, year=2019, exact=True).figures()["rows"]


def test_dry_run_lists_only_what_is_past_retention_and_changes_nothing(records):
    out = io.StringIO()
    call_command("purge_expired", "--dry-run", "--today", TODAY.isoformat(), stdout=out)
    text = out.getvalue()
    assert records["old"].code in text
    assert records["recent"].code not in text and records["active"].code not in text
    assert records["duplicate"].code not in text  # goes with the case it was merged into
    assert "fiscal year 2019" in text and "fiscal year 2025" not in text
    assert not DataKey.objects.filter(destroyed_at__isnull=False).exists()
    assert SECRET in Case.objects.get(pk=records["old"].pk).summary


def test_purge_erases_content_everywhere_and_keeps_every_figure(records, client):
    before = _figures(records["plan"])
    call_command(
        "purge_expired", "--today", TODAY.isoformat(), stdout=io.StringIO(), stderr=io.StringIO()
    )

    old, duplicate, person = records["old"], records["duplicate"], records["person"]
    for key_owner in (old, duplicate, person):
        assert DataKey.objects.get(pk=key_owner.data_key_id).destroyed_at is not None
    # Live rows and history rows: the stored values cannot be decrypted any more.
    stored = [
        (row.summary.__class__, row)
        for row in [
            *Contact.objects.filter(case__in=[old, duplicate]),
            *Contact.history.filter(case_id__in=[old.pk, duplicate.pk]),
        ]
    ]
    assert stored and all(cls is Erased for cls, _row in stored)
    raw = Case.objects.filter(pk=old.pk).values_list("summary", flat=True).get()
    with pytest.raises(crypto.DataKeyDestroyed):
        crypto.decrypt_value(raw, crypto.associated_data("casework.case", "summary", old.pk))
    assert isinstance(Case.history.filter(id=old.pk).first().summary, Erased)
    # The person can no longer be matched by name, birth date or phone.
    person.refresh_from_db()
    assert person.phone_index is None and person.kana_birth_index is None
    assert not person.history.exclude(phone_index=None).exists()
    # The old anonymous contact is erased; the recent one and the other cases are not.
    assert isinstance(Contact.objects.get(pk=records["anonymous_old"].pk).summary, Erased)
    assert Contact.objects.get(pk=records["anonymous_new"].pk).summary == "新しい匿名（追記）"
    assert Case.objects.get(pk=records["recent"].pk).summary == "残る"
    assert Case.objects.get(pk=records["active"].pk).summary == "支援中"
    # Rows and figures are unchanged.
    assert _figures(records["plan"]) == before
    assert Event.objects.filter(action=Action.ERASURE).count() == 2  # the case, the year key
    # The case page still opens, showing the content as erased.
    client.force_login(records["staff"])
    page = client.get(reverse("casework:case_detail", args=[old.code]))
    assert page.status_code == 200
    assert "（消去済み）" in page.content.decode() and SECRET not in page.content.decode()


def test_a_second_run_finds_nothing_more(records):
    call_command(
        "purge_expired", "--today", TODAY.isoformat(), stdout=io.StringIO(), stderr=io.StringIO()
    )
    out = io.StringIO()
    call_command("purge_expired", "--dry-run", "--today", TODAY.isoformat(), stdout=out)
    assert "0 closed cases and 0 organisation-year keys" in out.getvalue()
