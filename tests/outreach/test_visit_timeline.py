"""Issue 20 part 4: a visit's place, purpose, result and notes on the case's timeline and
its printed 相談記録票, for whoever may open the visit's page (outreach.view_visit and
reading the case: outreach.selectors.may_read_visits), and for nobody else: not an MDT
member reading the case on an agenda grant, not another organisation, not statistics.
The print is an audited export in the Japanese era, marked 取扱注意, pseudonymous unless
a holder of casework.export_identity prints it with the identity after a fresh step-up.
Everything through HTTP, with the real database and crypto."""

from __future__ import annotations

import datetime
import re
import time
from types import SimpleNamespace

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts import reauth
from audit.models import Action, Event
from casework import services as casework
from casework.periods import era_date
from meetings import services as meetings
from meetings.models import Meeting
from outreach import services
from outreach.models import Visit

pytestmark = pytest.mark.django_db

NAME = "訪問 印刷子"
PURPOSE = "目的-経過 主治医への受診に同行する"
NOTES = "記録-経過 待合室で30分話した"
PLANNED_PURPOSE = "目的-予定 ハローワークの見学"
TZ = timezone.get_current_timezone()


def fresh(user):
    """The user as a new request sees them (permission caches empty)."""
    return type(user).objects.get(pk=user.pk)


@pytest.fixture
def w(world):
    """A case of the centre with a done accompaniment to a hospital (purpose and notes) and
    a planned visit to Hello Work; an MDT member reading the case on an open agenda grant."""
    w = SimpleNamespace(world=world, outreach=world.outreach, supervisor=world.supervisor)
    w.case = casework.open_case(world.outreach, identity={"name": NAME})
    started = timezone.now() - datetime.timedelta(days=2)
    w.done = services.plan_visit(
        world.outreach,
        w.case,
        planned_start=started,
        workers=[world.outreach],
        kind=Visit.Kind.ACCOMPANIMENT,
        destination=Visit.Destination.HOSPITAL,
        purpose=PURPOSE,
    )
    services.start_visit(world.outreach, w.done, now=started)
    w.done = services.complete_visit(
        world.outreach, w.done, outcome="met_person", minutes=90, notes=NOTES
    )
    w.planned = services.plan_visit(
        world.outreach,
        w.case,
        planned_start=timezone.now() + datetime.timedelta(days=3),
        workers=[world.outreach],
        destination=Visit.Destination.HELLO_WORK,
        purpose=PLANNED_PURPOSE,
    )
    meeting = meetings.plan_meeting(
        w.supervisor,
        kind=Meeting.Kind.CASE_CONFERENCE,
        held_at=timezone.now() + datetime.timedelta(days=1),
        legal_basis=Meeting.LegalBasis.INTERNAL,
        attendees=[w.supervisor, world.mdt],
    )
    meetings.add_to_agenda(w.supervisor, meeting, case=w.case)
    return w


def get(client, user, name: str, case, query: str = ""):
    client.force_login(user)
    return client.get(reverse(f"casework:{name}", kwargs={"code": case.code}) + query)


def shows_the_visits(html: str) -> None:
    assert PURPOSE in html and NOTES in html
    assert "医療機関" in html and "本人と会えた" in html  # the place and the result
    assert PLANNED_PURPOSE in html and "ハローワーク・就労支援機関" in html


def shows_no_visit_content(html: str) -> None:
    for text in (PURPOSE, NOTES, PLANNED_PURPOSE, "医療機関", "ハローワーク", "本人と会えた"):
        assert text not in html, text


@pytest.mark.parametrize("who", ["outreach", "supervisor"])
def test_the_case_keepers_see_place_purpose_and_notes_on_the_timeline(client, w, who):
    page = get(client, getattr(w, who), "case_detail", w.case)
    assert page.status_code == 200
    html = page.content.decode()
    shows_the_visits(html)
    # The done visit's details are inside the contact it logged, not an entry of its own.
    contact = re.search(
        r'<li class="contact">(.*?)</li>\n  <li|<li class="contact">(.*)', html, re.S
    )
    assert contact is not None and NOTES in contact.group(0) and "同行支援" in contact.group(0)
    assert html.count(NOTES) == 1
    # The page's view event names the visits it showed, never their text.
    event = Event.objects.filter(action=Action.VIEW, object_ref=w.case.code).last()
    assert sorted(event.detail["visits"]) == sorted([str(w.done.pk), str(w.planned.pk)])
    assert "経過" not in repr(event.detail)


def test_an_mdt_member_reads_the_case_but_not_what_its_visits_say(client, w):
    page = get(client, w.world.mdt, "case_detail", w.case)
    assert page.status_code == 200  # the agenda grant opens the case...
    html = page.content.decode()
    shows_no_visit_content(html)  # ...not the visits (no outreach.view_visit)
    assert "同行支援" in html  # the contact the visit logged is still there
    event = Event.objects.filter(action=Action.VIEW, object_ref=w.case.code).last()
    assert "visits" not in event.detail


@pytest.mark.parametrize("who", ["other_counsellor", "statistics", "auditor", "liaison"])
@pytest.mark.parametrize("view", ["case_detail", "case_print"])
def test_nobody_without_the_case_sees_its_visits(client, w, who, view):
    page = get(client, getattr(w.world, who), view, w.case)
    assert page.status_code in (403, 404)
    shows_no_visit_content(page.content.decode())


def test_the_purpose_is_planned_on_the_form_shown_on_the_visit_page_and_encrypted(client, w):
    client.force_login(w.outreach)
    response = client.post(
        reverse("outreach:visit_new"),
        {
            "case_code": w.case.code,
            "kind": Visit.Kind.HOME_VISIT,
            "destination": Visit.Destination.SCHOOL,
            "purpose": "目的-フォーム 担任と面談",
            "planned_start": "2030-04-01T10:00",
            "workers": [w.outreach.pk],
        },
    )
    assert response.status_code == 302
    visit = Visit.objects.get(purpose__isnull=False, destination=Visit.Destination.SCHOOL)
    page = client.get(reverse("outreach:visit_detail", kwargs={"pk": visit.pk}))
    html = page.content.decode()
    assert "目的-フォーム 担任と面談" in html and "学校" in html
    with connection.cursor() as cursor:
        for table in ("outreach_visit", "outreach_historicalvisit"):
            cursor.execute(f"SELECT * FROM {table}")
            rows = repr(cursor.fetchall())
            assert "目的-" not in rows and "記録-経過" not in rows, table


def test_the_print_is_a_proper_record_with_the_visits_and_an_audited_export(client, w):
    page = get(client, w.outreach, "case_print", w.case)
    assert page.status_code == 200
    html = page.content.decode()
    assert "相談記録票" in html and "取扱注意" in html and w.case.code in html
    shows_the_visits(html)
    assert NAME not in html  # pseudonymous
    # Dates in the Japanese era: the opening day, the visit's contact, the printing.
    assert f"受付日</th><td>{era_date(w.case.opened_on)}" in html
    assert era_date(timezone.localtime(w.done.contact.occurred_at).date()) in html
    assert not re.search(r"\d{4}/\d{2}/\d{2}", html)  # no Western dates left
    event = Event.objects.get(action=Action.EXPORT, object_ref=w.case.code)
    assert event.actor_id == w.outreach.pk
    assert event.detail["format"] == "print" and event.detail["identity"] is False
    assert sorted(event.detail["visits"]) == sorted([str(w.done.pk), str(w.planned.pk)])
    assert "経過" not in repr(event.detail) and "予定" not in repr(event.detail)
    assert not Event.objects.filter(action=Action.IDENTITY_REVEAL).exists()


def test_an_mdt_member_may_not_print_and_leaves_no_export(client, w):
    page = get(client, w.world.mdt, "case_print", w.case)
    assert page.status_code == 403
    shows_no_visit_content(page.content.decode())
    assert not Event.objects.filter(action=Action.EXPORT).exists()


def test_the_identity_is_printed_only_by_an_identity_exporter_after_a_fresh_step_up(client, w):
    # A counsellor reveals the identity on screen but does not export it: refused.
    counsellor_page = get(client, w.outreach, "case_print", w.case, "?identity=1")
    assert counsellor_page.status_code == 403
    assert NAME not in counsellor_page.content.decode()
    detail = get(client, w.outreach, "case_detail", w.case).content.decode()
    assert "?identity=1" not in detail  # and is not offered it

    # The supervisor, just signed in (signing in counts as a step-up): printed with it.
    detail = get(client, w.supervisor, "case_detail", w.case).content.decode()
    url = reverse("casework:case_print", kwargs={"code": w.case.code}) + "?identity=1"
    assert url in detail
    # First the purpose, asked on a form (outside review: identity printed without one).
    asked = client.get(url)
    assert asked.status_code == 200 and NAME not in asked.content.decode()
    assert "利用目的" in asked.content.decode()
    vague = client.post(url, {"purpose": "印刷"})
    assert vague.status_code == 400 and NAME not in vague.content.decode()
    assert not Event.objects.filter(action=Action.EXPORT).exists()
    page = client.post(url, {"purpose": "主治医への紹介状に添える"})
    assert page.status_code == 200
    html = page.content.decode()
    assert NAME in html and "個人情報（氏名・連絡先）を含みます" in html and "取扱注意" in html
    reveal = Event.objects.get(action=Action.IDENTITY_REVEAL)
    assert reveal.actor_id == w.supervisor.pk
    export = Event.objects.get(action=Action.EXPORT, object_ref=w.case.code)
    assert export.detail["identity"] is True and NAME not in repr(export.detail)
    assert export.detail["purpose"] == "主治医への紹介状に添える"

    # Past the step-up window: sent to re-authenticate, nothing printed or audited.
    session = client.session
    session[reauth.AUTHENTICATED_AT] = time.time() - 3600
    session.save()
    stale = client.post(url, {"purpose": "主治医への紹介状に添える"})
    assert stale.status_code == 302 and reverse("accounts:reauthenticate") in stale["Location"]
    assert Event.objects.filter(action=Action.EXPORT).count() == 1
    assert Event.objects.filter(action=Action.IDENTITY_REVEAL).count() == 1
    # Without asking for it, the print stays pseudonymous whatever the step-up.
    plain = client.get(reverse("casework:case_print", kwargs={"code": w.case.code}))
    assert NAME not in plain.content.decode()


def test_a_case_without_a_client_prints_no_identity(client, w):
    case = casework.open_case(w.supervisor, identity=None)
    client.force_login(fresh(w.supervisor))
    url = reverse("casework:case_print", kwargs={"code": case.code}) + "?identity=1"
    page = client.post(url, {"purpose": "主治医への紹介状に添える"})
    assert page.status_code == 200
    assert "個人情報（氏名・連絡先）を含みます" not in page.content.decode()
    assert Event.objects.get(action=Action.EXPORT, object_ref=case.code).detail["identity"] is False
