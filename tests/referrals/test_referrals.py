"""Referrals: the receiving side sees exactly the consented parts, for as long as the
grant lasts; every transition is checked, audited and shown in the case history."""

from __future__ import annotations

import datetime
import time
from types import SimpleNamespace

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from accounts.reauth import StepUp
from accounts.roles import Role
from audit.models import Action, Event
from casework import services as casework
from casework.selectors import case_timeline
from referrals import selectors, services
from referrals.models import Referral
from tests.factories import make_organisation, make_user

pytestmark = pytest.mark.django_db

S = Referral.Status
CONSENT = {
    "consent_given": True,
    "consent_on": datetime.date(2024, 5, 1),
    "consent_method": "written",
}
NAME, PURPOSE, SUMMARY, CONTACT = (
    "紹介 花子",
    "居住地での継続支援を依頼",
    "ケース概要の文",
    "相談記録の文",
)


@pytest.fixture
def setting(db):
    centre = make_organisation(name="センター")
    town = make_organisation("municipality", name="紹介先町")
    counsellor = make_user(Role.COUNSELLOR, organisation=centre, username="sender")
    liaison = make_user(Role.MUNICIPAL_LIAISON, organisation=town, username="receiver")
    case = casework.open_case(
        counsellor, identity={"name": NAME, "phone": "000-1"}, case_fields={"summary": SUMMARY}
    )
    casework.log_contact(counsellor, case=case, summary=CONTACT)
    return SimpleNamespace(
        centre=centre, town=town, counsellor=counsellor, liaison=liaison, case=case
    )


def refer(s, scopes=(), consent=CONSENT):
    referral = services.create_referral(
        s.counsellor,
        s.case,
        to_organisation=s.town,
        kind=Referral.Kind.RESIDENCE_MUNICIPALITY,
        purpose=PURPOSE,
        consent=consent if scopes else {},
        scopes={scope: True for scope in scopes},
    )
    referral = services.move(s.counsellor, referral, S.SENT)
    return services.move(s.liaison, referral, S.ACCEPTED)


def shared_page(client, user, referral):
    """The shared page with the consented identity asked for (a POST right after signing
    in, so within the step-up window)."""
    client.force_login(user)
    return client.post(reverse("referrals:shared", kwargs={"pk": referral.pk}))


EXPECTED = {
    "share_basic_profile": [NAME],
    "share_summary": [PURPOSE, SUMMARY],
    "share_contacts": [CONTACT],
}


@pytest.mark.parametrize(
    "scopes",
    [
        (),
        ("share_basic_profile",),
        ("share_summary",),
        ("share_contacts",),
        ("share_basic_profile", "share_summary"),
        ("share_meeting_decisions",),
    ],
    ids=lambda s: "+".join(s) or "no-consent",
)
def test_the_receiving_side_sees_exactly_the_consented_parts(client, setting, scopes):
    referral = refer(setting, scopes)
    page = shared_page(client, setting.liaison, referral).content.decode()
    for scope, texts in EXPECTED.items():
        for text in texts:
            assert (text in page) == (scope in scopes), (scope, text)
    # Non-identifying facts are always there; the case itself never opens by URL guessing.
    assert "ひきこもり期間" in page
    for name in ("case_detail", "case_edit", "identity_edit"):
        url = reverse(f"casework:{name}", kwargs={"code": referral.case.code})
        assert client.get(url).status_code in (403, 404), name
    assert client.post(
        reverse("casework:identity_reveal", kwargs={"code": referral.case.code})
    ).status_code in (403, 404)


def test_before_acceptance_the_shared_view_is_closed(client, setting):
    referral = services.create_referral(
        setting.counsellor,
        setting.case,
        to_organisation=setting.town,
        kind="residence",
        consent=CONSENT,
        scopes={"share_basic_profile": True},
    )
    referral = services.move(setting.counsellor, referral, S.SENT)
    assert shared_page(client, setting.liaison, referral).status_code == 404
    detail = client.get(reverse("referrals:detail", kwargs={"pk": referral.pk})).content.decode()
    assert NAME not in detail and PURPOSE not in detail


@pytest.mark.parametrize("ending", ["completed", "withdrawn", "consent_withdrawn"])
def test_the_grant_ends_with_completion_withdrawal_or_consent_withdrawal(client, setting, ending):
    referral = refer(setting, ("share_basic_profile",))
    assert shared_page(client, setting.liaison, referral).status_code == 200
    if ending == "completed":
        services.move(setting.liaison, referral, S.COMPLETED)
    elif ending == "withdrawn":
        services.move(setting.counsellor, referral, S.WITHDRAWN)
    else:
        services.withdraw_consent(setting.counsellor, referral, step_up=StepUp(time.time()))
    setting.liaison = type(setting.liaison).objects.get(pk=setting.liaison.pk)  # fresh perm cache
    assert shared_page(client, setting.liaison, referral).status_code == 404


def test_meeting_decisions_are_shared_only_with_that_scope(client, setting):
    from meetings import services as meetings

    supervisor = make_user(Role.SUPERVISOR, organisation=setting.centre)
    meeting = meetings.plan_meeting(
        supervisor, kind="mdt_monthly", held_at=timezone.now(), legal_basis="internal"
    )
    item = meetings.add_to_agenda(supervisor, meeting, setting.case)
    meetings.record_minutes(supervisor, item, decisions="就労支援機関へつなぐ")  # review open
    with_scope = refer(setting, ("share_meeting_decisions",))
    assert (
        "就労支援機関へつなぐ" in shared_page(client, setting.liaison, with_scope).content.decode()
    )
    services.move(setting.liaison, with_scope, S.COMPLETED)
    without = refer(setting, ("share_summary",))
    assert (
        "就労支援機関へつなぐ" not in shared_page(client, setting.liaison, without).content.decode()
    )


def test_another_organisation_never_sees_the_referral(client, setting):
    referral = refer(setting, ("share_basic_profile",))
    stranger = make_user(Role.MUNICIPAL_LIAISON, organisation=make_organisation("municipality"))
    client.force_login(stranger)
    assert client.get(reverse("referrals:detail", kwargs={"pk": referral.pk})).status_code == 404
    assert client.get(reverse("referrals:shared", kwargs={"pk": referral.pk})).status_code == 404


def test_shares_without_consent_are_refused_by_form_service_and_database(client, setting):
    client.force_login(setting.counsellor)
    response = client.post(
        reverse("referrals:new", kwargs={"code": setting.case.code}),
        {"to_organisation": setting.town.pk, "kind": "residence", "share_basic_profile": "on"},
    )
    assert response.status_code == 200 and "同意がない紹介" in response.content.decode()
    with pytest.raises(ValidationError):
        services.create_referral(
            setting.counsellor,
            setting.case,
            to_organisation=setting.town,
            kind="residence",
            scopes={"share_contacts": True},
        )
    assert Referral.objects.count() == 0


def test_invalid_transitions_and_the_wrong_side_are_refused(setting):
    referral = services.create_referral(
        setting.counsellor, setting.case, to_organisation=setting.town, kind="ibasho"
    )
    with pytest.raises(ValidationError, match="には変更できません"):
        services.move(setting.counsellor, referral, S.ACCEPTED)  # draft cannot be accepted
    with pytest.raises(PermissionDenied):
        services.move(setting.liaison, referral, S.SENT)  # only the sender sends
    services.move(setting.counsellor, referral, S.SENT)
    with pytest.raises(PermissionDenied):
        services.move(setting.counsellor, referral, S.ACCEPTED)  # only the receiver accepts
    with pytest.raises(ValidationError, match="理由"):
        services.move(setting.liaison, referral, S.DECLINED)
    services.move(setting.liaison, referral, S.DECLINED, note="対象外のため")
    with pytest.raises(ValidationError):
        services.move(setting.counsellor, referral, S.WITHDRAWN)  # declined is final
    assert Referral.objects.get().status == S.DECLINED


def test_every_transition_is_audited_and_in_the_case_history(setting):
    referral = refer(setting, ("share_summary",))
    services.move(setting.liaison, referral, S.COMPLETED)
    transitions = list(referral.transitions.values_list("to_status", "by__username"))
    assert transitions == [
        ("draft", "sender"),
        ("sent", "sender"),
        ("accepted", "receiver"),
        ("completed", "receiver"),
    ]
    audited = Event.objects.filter(object_type="referrals.Referral", action=Action.UPDATE)
    assert [e.detail["to"] for e in audited] == ["sent", "accepted", "completed"]
    history = [
        entry.item
        for entry in case_timeline(setting.case, setting.counsellor)
        if entry.kind == "event"
    ]
    assert len(history) == 4 and any("受理" in text for text in history)


def test_purpose_is_ciphertext_at_rest(setting):
    from django.db import connection

    refer(setting, ("share_summary",))
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM referrals_referral")
        rows = repr(cursor.fetchall())
        cursor.execute("SELECT * FROM referrals_historicalreferral")
        history = repr(cursor.fetchall())
    assert PURPOSE not in rows and PURPOSE not in history
    assert Referral.objects.get().purpose == PURPOSE


def test_a_transfer_moves_the_case_and_the_old_organisation_reads_only_what_it_wrote(
    client, setting
):
    supervisor = make_user(Role.SUPERVISOR, organisation=setting.centre)
    town_counsellor = make_user(Role.COUNSELLOR, organisation=setting.town)
    transfer = services.transfer_case(supervisor, setting.case, to_organisation=setting.town)
    setting.case.refresh_from_db()
    casework.log_contact(town_counsellor, case=setting.case, summary="移管先の記録")

    client.force_login(setting.counsellor)
    page = client.get(reverse("casework:case_detail", kwargs={"code": setting.case.code}))
    assert page.status_code == 200
    assert CONTACT in page.content.decode() and "移管先の記録" not in page.content.decode()

    client.force_login(town_counsellor)
    page = client.get(
        reverse("casework:case_detail", kwargs={"code": setting.case.code})
    ).content.decode()
    assert CONTACT in page and "移管先の記録" in page

    services.end_transfer_access(supervisor, transfer)
    setting.counsellor = type(setting.counsellor).objects.get(pk=setting.counsellor.pk)
    client.force_login(setting.counsellor)
    assert (
        client.get(reverse("casework:case_detail", kwargs={"code": setting.case.code})).status_code
        == 404
    )


def test_counts_by_kind_and_outcome_and_days_to_accept(setting):
    accepted = refer(setting, ())
    declined = services.move(
        setting.counsellor,
        services.create_referral(
            setting.counsellor,
            setting.case,
            to_organisation=setting.town,
            kind=Referral.Kind.IBASHO,
        ),
        S.SENT,
    )
    services.move(setting.liaison, declined, S.DECLINED, note="定員")
    Referral.objects.filter(pk=accepted.pk).update(
        sent_at=timezone.now() - datetime.timedelta(days=4), responded_at=timezone.now()
    )
    today = timezone.localdate()
    result = selectors.counts(start=today - datetime.timedelta(days=30), end=today)
    assert result["by_kind_and_status"] == {("residence", "accepted"): 1, ("ibasho", "declined"): 1}
    assert result["total"] == 2
    assert round(result["median_days_to_accept"]) == 4


def test_consultations_from_municipal_staff_are_countable(setting):
    casework.log_contact(
        setting.counsellor, consulter="agency", referring_organisation=setting.town
    )
    casework.log_contact(setting.counsellor, consulter="parent")
    from casework.models import Contact

    agency = Contact.objects.filter(consulter="agency", referring_organisation__kind="municipality")
    assert agency.count() == 1
