"""What the receiving side of a referral sees: exactly the consented parts, for as long as
the grant lasts, and nobody else anything."""

from __future__ import annotations

import time

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.reauth import StepUp
from accounts.roles import Role
from referrals import services
from tests.referrals.helpers import (
    CONSENT,
    EXPECTED,
    NAME,
    PURPOSE,
    S,
    refer,
    shared_page,
)

pytestmark = pytest.mark.django_db


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
    referral = services.move(setting.counsellor, referral, to_status=S.SENT)
    assert shared_page(client, setting.liaison, referral).status_code == 404
    detail = client.get(reverse("referrals:detail", kwargs={"pk": referral.pk})).content.decode()
    assert NAME not in detail and PURPOSE not in detail


@pytest.mark.parametrize("ending", ["completed", "withdrawn", "consent_withdrawn"])
def test_the_grant_ends_with_completion_withdrawal_or_consent_withdrawal(client, setting, ending):
    referral = refer(setting, ("share_basic_profile",))
    assert shared_page(client, setting.liaison, referral).status_code == 200
    if ending == "completed":
        services.move(setting.liaison, referral, to_status=S.COMPLETED)
    elif ending == "withdrawn":
        services.move(setting.counsellor, referral, to_status=S.WITHDRAWN)
    else:
        services.withdraw_consent(setting.counsellor, referral, step_up=StepUp(time.time()))
    setting.liaison = type(setting.liaison).objects.get(pk=setting.liaison.pk)  # fresh perm cache
    assert shared_page(client, setting.liaison, referral).status_code == 404


def test_meeting_decisions_are_shared_only_with_that_scope(client, setting):
    from meetings import services as meetings

    supervisor = setting.world.supervisor
    meeting = meetings.plan_meeting(
        supervisor, kind="mdt_monthly", held_at=timezone.now(), legal_basis="internal"
    )
    item = meetings.add_to_agenda(supervisor, meeting, case=setting.case)
    meetings.record_minutes(supervisor, item, decisions="就労支援機関へつなぐ")  # review open
    with_scope = refer(setting, ("share_meeting_decisions",))
    assert (
        "就労支援機関へつなぐ" in shared_page(client, setting.liaison, with_scope).content.decode()
    )
    services.move(setting.liaison, with_scope, to_status=S.COMPLETED)
    without = refer(setting, ("share_summary",))
    assert (
        "就労支援機関へつなぐ" not in shared_page(client, setting.liaison, without).content.decode()
    )


def test_another_organisation_never_sees_the_referral(client, setting):
    referral = refer(setting, ("share_basic_profile",))
    stranger = setting.world.user(Role.MUNICIPAL_LIAISON, organisation=setting.world.village)
    client.force_login(stranger)
    assert client.get(reverse("referrals:detail", kwargs={"pk": referral.pk})).status_code == 404
    assert client.get(reverse("referrals:shared", kwargs={"pk": referral.pk})).status_code == 404
