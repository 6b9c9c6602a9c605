"""Security round 2, findings 3, 4 and 6 (and parts of 10 and 11), performed through HTTP
as the outside review did: every access kind allows only what casework.access says.

3. After a transfer the old organisation read, edited and closed the case, restricted
   cases included. Now: a read-only view of the records it wrote, for a limited time.
4. The identity edit page and the receiving side's shared page showed the identity on a
   session past the step-up window. Now the service that decrypts checks the step-up.
6. Break-glass gave any counsellor of any organisation read-write access to any case at
   once, kept the reason in plaintext and in the audit chain, and answered unknown codes
   differently. Now: the policy in casework.services.break_glass.
"""

from __future__ import annotations

import datetime
import itertools
import time
from types import SimpleNamespace

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.reauth import AUTHENTICATED_AT
from accounts.roles import Role
from audit.models import Action, Event
from casework import services
from casework.models import BreakGlass, Case
from referrals import services as referral_services

pytestmark = pytest.mark.django_db

REASON = "夜間に本人から緊急の電話があり、これまでの支援経過の確認が必要なため"


def url(name: str, case: Case) -> str:
    return reverse(f"casework:{name}", kwargs={"code": case.code})


_phones = itertools.count(1000)


def open_case(actor, **case_fields) -> Case:
    return services.open_case(
        actor,
        identity={"name": "移管 太郎", "phone": f"090-0000-{next(_phones)}"},
        case_fields={"summary": "移管前の概要", **case_fields},
    )


def stale_step_up(client) -> None:
    """The session signed in long ago: past the step-up window."""
    session = client.session
    session[AUTHENTICATED_AT] = time.time() - 3600
    session.save()


@pytest.fixture
def world(world):
    """The shared world with a counsellor at the town (the city) and one at the NPO; the
    supervisors of the centre and of the town have the addresses break-glass mails go to."""
    for supervisor, email in (
        (world.supervisor, "sv@centre.example"),
        (world.town_supervisor, "sv@city.example"),
    ):
        supervisor.email = email
        supervisor.save(update_fields=["email"])
    return SimpleNamespace(
        **vars(world),
        city=world.town,
        city_counsellor=world.user(Role.COUNSELLOR, organisation=world.town),
        city_supervisor=world.town_supervisor,
        npo_counsellor=world.user(Role.COUNSELLOR, organisation=world.npo),
    )


# --- finding 3: transfers ---------------------------------------------------------------


def transferred(w, **case_fields) -> Case:
    case = open_case(w.counsellor, **case_fields)
    services.log_contact(w.counsellor, case=case, channel="phone", summary="センターの記録")
    referral_services.transfer_case(w.supervisor, case, to_organisation=w.city)
    case.refresh_from_db()
    services.log_contact(w.city_supervisor, case=case, channel="phone", summary="市の記録")
    return case


@pytest.mark.parametrize("who", ["counsellor", "colleague", "outreach", "supervisor"])
def test_after_a_transfer_the_old_organisation_cannot_edit_close_or_reveal(client, world, who):
    case = transferred(world)
    client.force_login(getattr(world, who))
    page = client.get(url("case_detail", case))
    assert page.status_code == 200  # the read-back
    text = page.content.decode()
    assert "センターの記録" in text and "市の記録" not in text and "移管前の概要" not in text
    for name in ("case_edit", "case_close", "identity_edit"):
        assert client.get(url(name, case)).status_code == 403, name
    milestone = client.post(
        url("milestone_new", case), {"kind": "ibasho", "achieved_on": "2026-04-01"}
    )
    assert milestone.status_code == 403 and not case.milestones.exists()
    edit = client.post(url("case_edit", case), {"status": "active", "version": case.version})
    close = client.post(url("case_close", case), {"reason": "other", "version": case.version})
    reveal = client.post(url("identity_reveal", case))
    contact = client.post(reverse("casework:contact_new"), {"case": case.code, "channel": "phone"})
    assert [edit.status_code, close.status_code, reveal.status_code] == [403, 403, 403]
    assert contact.status_code in (200, 403)  # the form refuses the case, or 403
    case.refresh_from_db()
    assert case.status != Case.Status.CLOSED and case.organisation_id == world.city.pk
    assert not Event.objects.filter(action=Action.IDENTITY_REVEAL).exists()
    assert case.contacts.count() == 2


def test_a_restricted_case_is_not_read_back_after_its_transfer(client, world):
    case = transferred(world, restricted=True)
    client.force_login(world.supervisor)
    assert client.get(url("case_detail", case)).status_code == 404


def test_the_read_back_ends_after_its_time(client, world, settings):
    settings.TRANSFER_READ_BACK_DAYS = 30
    case = transferred(world)
    read_back = case.read_backs.get()
    assert read_back.expires_at - read_back.granted_at == datetime.timedelta(days=30)
    client.force_login(world.counsellor)
    assert client.get(url("case_detail", case)).status_code == 200
    case.read_backs.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    assert client.get(url("case_detail", case)).status_code == 404


def test_the_old_organisation_exports_nothing_of_a_transferred_case(client, world):
    case = transferred(world)
    client.force_login(world.counsellor)
    body = client.get(reverse("casework:case_export", kwargs={"fmt": "csv"})).content.decode(
        "utf-8-sig"
    )
    assert case.code not in body


# --- finding 4: step-up ------------------------------------------------------------------


def test_identity_edit_page_past_the_step_up_window_shows_no_identity(client, world):
    case = open_case(world.counsellor)
    client.force_login(world.counsellor)
    stale_step_up(client)
    response = client.get(url("identity_edit", case))
    assert (
        response.status_code == 302 and reverse("accounts:reauthenticate") in response["Location"]
    )
    assert "移管 太郎" not in response.content.decode()
    assert not Event.objects.filter(action=Action.IDENTITY_REVEAL).exists()
    # A POST that would overwrite the identity is refused the same way, nothing written.
    client.post(
        url("identity_edit", case),
        {"name": "書き換え", "version": case.client.version, "gender": "unknown"},
    )
    case.client.refresh_from_db()
    assert case.client.name == "移管 太郎"


def test_the_receiving_side_sees_the_shared_identity_only_after_a_step_up(client, world):
    case = open_case(world.counsellor, sharing_consent_on=timezone.localdate())
    referral = referral_services.create_referral(
        world.counsellor,
        case,
        to_organisation=world.city,
        kind="residence",
        purpose="市での支援",
        consent={
            "consent_given": True,
            "consent_on": timezone.localdate(),
            "consent_method": "written",
        },
        scopes={"share_basic_profile": True},
    )
    referral_services.move(world.counsellor, referral, to_status="sent")
    referral_services.move(world.city_counsellor, referral, to_status="accepted")
    shared = reverse("referrals:shared", kwargs={"pk": referral.pk})
    client.force_login(world.city_counsellor)
    stale_step_up(client)
    assert "移管 太郎" not in client.get(shared).content.decode()
    refused = client.post(shared)
    assert refused.status_code == 302 and "移管 太郎" not in refused.content.decode()
    assert not Event.objects.filter(action=Action.IDENTITY_REVEAL).exists()
    client.force_login(world.city_counsellor)  # a fresh sign-in is a fresh step-up
    shown = client.post(shared)
    assert "移管 太郎" in shown.content.decode()
    assert Event.objects.filter(action=Action.IDENTITY_REVEAL, object_ref=str(referral.pk)).exists()


def test_an_identity_export_past_the_step_up_window_is_refused(client, world):
    open_case(world.counsellor)
    client.force_login(world.supervisor)
    stale_step_up(client)
    response = client.post(
        reverse("casework:identity_export"),
        {"kind": "cases", "fmt": "csv", "purpose": "県への報告のため"},
    )
    assert response.status_code == 302
    assert not Event.objects.filter(action=Action.EXPORT).exists()


# --- finding 6: break-glass ---------------------------------------------------------------


def glass(client, user, code: str, category: str = "danger"):
    client.force_login(user)
    return client.post(
        reverse("casework:break_glass"), {"code": code, "category": category, "reason": REASON}
    )


def test_another_organisations_counsellor_gets_nothing_until_its_supervisor_approves(client, world):
    case = open_case(world.city_counsellor)
    response = glass(client, world.counsellor, case.code)
    assert response.status_code == 302 and response["Location"] == reverse("casework:break_glass")
    assert client.get(url("case_detail", case)).status_code == 404
    assert [m.to for m in mail.outbox] == [["sv@city.example"]]

    grant = BreakGlass.objects.get()
    client.force_login(world.supervisor)  # not the case's organisation: cannot approve
    review = reverse("casework:break_glass_review")
    assert client.post(review, {"grant": grant.pk, "decision": "approve"}).status_code == 403
    client.force_login(world.city_supervisor)
    client.post(review, {"grant": grant.pk, "decision": "approve"})
    decision = Event.objects.get(action=Action.APPROVAL_DECISION)
    assert decision.actor_id == world.city_supervisor.pk
    assert decision.detail["requested_by"] == world.counsellor.pk

    client.force_login(world.counsellor)
    assert client.get(url("case_detail", case)).status_code == 200
    # Read-only: no edit, no close, no contact, no export.
    assert client.get(url("case_edit", case)).status_code == 403
    assert client.post(url("case_close", case), {"reason": "other"}).status_code == 403
    body = client.get(reverse("casework:case_export", kwargs={"fmt": "csv"}))
    assert case.code not in body.content.decode("utf-8-sig")


def test_unknown_and_refused_codes_get_the_same_answer_as_a_real_request(client, world):
    real = open_case(world.city_counsellor)
    restricted = open_case(world.city_counsellor, restricted=True)
    answers = []
    for code in (real.code, restricted.code, "C-ZZZZZZ"):
        response = glass(client, world.outreach, code)
        answers.append((response.status_code, response["Location"]))
        page = client.get(reverse("casework:break_glass")).content.decode()
        assert "承認待ち" in page
    assert len(set(answers)) == 1
    assert client.get(url("case_detail", restricted)).status_code == 404


def test_partner_staff_cannot_reach_another_organisations_case(client, world):
    case = open_case(world.counsellor)
    glass(client, world.npo_counsellor, case.code)
    assert BreakGlass.objects.get().case is None  # kept as a lapsed request, no case
    assert mail.outbox == []
    assert client.get(url("case_detail", case)).status_code == 404


def test_own_organisation_restricted_case_opens_at_once_read_only_and_supervisors_are_told(
    client, world
):
    case = open_case(world.counsellor, restricted=True)
    response = glass(client, world.colleague, case.code, "worker_absent")
    assert response["Location"] == url("case_detail", case)
    assert client.get(url("case_detail", case)).status_code == 200
    assert client.get(url("case_edit", case)).status_code == 403
    assert [m.to for m in mail.outbox] == [["sv@centre.example"]]


def test_the_reason_is_encrypted_and_the_chain_holds_only_its_category(client, world):
    from django.db import connection

    case = open_case(world.counsellor, restricted=True)
    glass(client, world.colleague, case.code)
    event = Event.objects.get(action=Action.BREAK_GLASS)
    assert event.detail["category"] == "danger" and REASON not in str(event.detail)
    with connection.cursor() as cursor:
        cursor.execute("SELECT reason_text FROM casework_breakglass")
        stored = cursor.fetchone()[0]
    assert REASON not in stored and stored.startswith("e1.")
    assert BreakGlass.objects.get().reason_text == REASON


def test_break_glass_is_rate_limited(client, world, settings):
    settings.BREAK_GLASS_DAILY_LIMIT = 2
    cases = [open_case(world.city_counsellor) for _ in range(3)]
    for case in cases[:2]:
        glass(client, world.counsellor, case.code)
    refused = glass(client, world.counsellor, cases[2].code)
    assert refused.status_code == 200 and "24時間" in refused.content.decode()
    assert BreakGlass.objects.count() == 2


def test_the_old_organisation_cannot_import_contacts_onto_a_transferred_case(client, world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from imports.models import ImportBatch, PendingUpload
    from tests.imports.conftest import CONTACT_HEADER, contact_row, xlsx

    case = transferred(world)
    client.force_login(world.supervisor)
    data = xlsx([CONTACT_HEADER, contact_row("R6.4.1", ケース番号=case.code)])
    client.post(
        reverse("imports:upload"),
        {"kind": "contacts", "file": SimpleUploadedFile("相談記録.xlsx", data)},
    )
    pending = PendingUpload.objects.get()
    mapping = client.get(reverse("imports:mapping", args=[pending.pk]))
    form = mapping.context["form"]
    choices = {name: form[name].value() or "" for name in form.fields}
    client.post(reverse("imports:mapping", args=[pending.pk]), choices)
    review = client.post(reverse("imports:review", args=[pending.pk]), {})
    assert (
        review.status_code == 200
        and "記録を追加できるケースがありません" in review.content.decode()
    )
    assert not ImportBatch.objects.exists()
    assert case.contacts.count() == 2


# --- what the outside review of this round found next to the findings ---------------------


def test_a_worker_checks_in_safe_after_the_case_moved_while_they_were_out(client, world):
    from outreach import services as outreach
    from outreach.models import Visit

    case = open_case(world.counsellor, restricted=True)
    case.lead_workers.add(world.outreach)
    visit = outreach.plan_visit(
        world.outreach, case, planned_start=timezone.now(), workers=[world.outreach]
    )
    outreach.start_visit(world.outreach, visit)
    referral_services.transfer_case(world.supervisor, case, to_organisation=world.city)
    client.force_login(world.outreach)
    client.post(reverse("outreach:visit_checkin", kwargs={"pk": visit.pk}))
    visit.refresh_from_db()
    assert visit.checked_in_at is not None and visit.status == Visit.Status.IN_PROGRESS
    # ...and nobody else may check in for it: not a colleague, not the new organisation.
    assert client.post(reverse("outreach:visit_cancel", kwargs={"pk": visit.pk})).status_code in (
        403,
        404,
    )


def test_break_glass_reveals_but_never_opens_the_identity_edit_page(client, world):
    case = open_case(world.counsellor, restricted=True)
    glass(client, world.colleague, case.code)
    assert client.get(url("identity_edit", case)).status_code == 403
    assert not Event.objects.filter(action=Action.IDENTITY_REVEAL).exists()


def test_the_review_note_is_encrypted(client, world):
    from django.db import connection

    case = open_case(world.counsellor, restricted=True)
    glass(client, world.colleague, case.code)
    grant = BreakGlass.objects.get()
    client.force_login(world.supervisor)
    client.post(
        reverse("casework:break_glass_review"),
        {"grant": grant.pk, "decision": "review", "note": "当日の電話で確認済み"},
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT review_note FROM casework_breakglass")
        assert cursor.fetchone()[0].startswith("e1.")
    grant.refresh_from_db()
    assert grant.review_note == "当日の電話で確認済み"


def test_a_nul_in_the_path_is_a_400_not_a_500(client, world):
    client.force_login(world.counsellor)
    assert client.get("/cases/%00/").status_code == 400


def test_an_xlsx_export_of_a_title_excel_forbids_in_sheet_names_works():
    from tabular import Table, sheet_name, to_xlsx

    for title in ('=HYPERLINK("x")/計画[1]:?', "'" * 3, "あ" * 40):
        name = sheet_name(title)
        assert 0 < len(name) <= 31 and not set(name) & set("[]:*?/\\")
        assert not name.startswith("'") and not name.endswith("'")
    body = to_xlsx([Table(title="t", heading=[], columns=["a"])], '=HYPERLINK("x")/計画[1]:?*\\')
    assert body[:2] == b"PK"


def test_only_staff_who_make_visits_are_offered_as_visitors(client, world):
    from tests.factories import make_user as make

    auditor = make(Role.AUDITOR, organisation=world.centre)
    client.force_login(world.outreach)
    page = client.get(reverse("outreach:visit_new")).content.decode()
    assert world.counsellor.username in page or str(world.counsellor) in page
    assert auditor.username not in page
