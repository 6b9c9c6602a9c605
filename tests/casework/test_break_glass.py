"""Break-glass: an emergency access on a reason category and an encrypted reason, read-only
and time-limited; at once within the own organisation, across organisations only on the
case organisation's supervisor's approval; queued for review until reviewed. The attacks
of the outside review are in tests/security/test_r2_access_kinds.py."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import Action, Event
from casework.models import BreakGlass
from tests.factories import make_case

REASON = "夜間に本人から緊急の電話があり、担当者不在のため支援経過の確認が必要"


@pytest.fixture
def setting(world):
    """The centre's counsellor; a case of the other centre and a restricted one of the own."""
    return {
        "counsellor": world.counsellor,
        "their_supervisor": world.other_supervisor,
        "own_supervisor": world.supervisor,
        "unrelated_supervisor": world.town_supervisor,
        "mdt": world.mdt,
        "case": make_case(world.other, summary="他組織のケース"),
        "restricted": make_case(world.centre, summary="自組織の制限ケース", restricted=True),
    }


def ask(client, user, code, category="worker_absent", reason=REASON):
    client.force_login(user)
    return client.post(
        reverse("casework:break_glass"), {"code": code, "category": category, "reason": reason}
    )


def test_own_restricted_case_opens_for_a_limited_time_and_is_audited(client, setting, settings):
    settings.BREAK_GLASS_MINUTES = 30
    case, user = setting["restricted"], setting["counsellor"]
    detail = reverse("casework:case_detail", args=[case.code])
    client.force_login(user)
    assert client.get(detail).status_code == 404

    response = ask(client, user, case.code.lower())
    assert response["Location"] == detail
    assert client.get(detail).status_code == 200
    grant = BreakGlass.objects.get(user=user, case=case)
    assert grant.expires_at and grant.approved_at
    assert (grant.expires_at - grant.approved_at) == datetime.timedelta(minutes=30)
    event = Event.objects.get(action=Action.BREAK_GLASS, object_ref=case.code)
    assert event.detail["outcome"] == "granted" and event.actor_id == user.pk

    # Expiry: once the time is over, the case is a 404 again.
    BreakGlass.objects.filter(pk=grant.pk).update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    assert client.get(detail).status_code == 404


def test_a_short_reason_or_no_category_is_refused_and_grants_nothing(client, setting):
    short = ask(client, setting["counsellor"], setting["restricted"].code, reason="確認")
    assert short.status_code == 200 and "文字以上" in short.content.decode()
    none = ask(client, setting["counsellor"], setting["restricted"].code, category="")
    assert none.status_code == 200
    assert not BreakGlass.objects.exists()


def test_roles_without_the_permission_cannot_break_glass(client, setting):
    response = ask(client, setting["mdt"], setting["case"].code)
    assert response.status_code == 403
    assert not BreakGlass.objects.exists()


def test_a_request_across_organisations_waits_for_that_organisations_supervisor(client, setting):
    ask(client, setting["counsellor"], setting["case"].code)
    grant = BreakGlass.objects.get()
    assert grant.approved_at is None and grant.cross_organisation
    review = reverse("casework:break_glass_review")
    # Only the case's organisation sees the request, with its reason.
    client.force_login(setting["their_supervisor"])
    assert REASON in client.get(review).content.decode()
    for who in ("own_supervisor", "unrelated_supervisor"):
        client.force_login(setting[who])
        assert REASON not in client.get(review).content.decode()
        assert client.post(review, {"grant": grant.pk, "decision": "approve"}).status_code == 403

    client.force_login(setting["their_supervisor"])
    client.post(review, {"grant": grant.pk, "decision": "refuse"})
    grant.refresh_from_db()
    assert grant.refused_at is not None and grant.approved_at is None
    client.force_login(setting["counsellor"])
    assert (
        client.get(reverse("casework:case_detail", args=[setting["case"].code])).status_code == 404
    )


def test_review_queue_and_review_mark(client, setting):
    ask(client, setting["counsellor"], setting["restricted"].code)
    grant = BreakGlass.objects.get()
    queue = reverse("casework:break_glass_review")
    client.force_login(setting["own_supervisor"])
    assert REASON in client.get(queue).content.decode()
    assert "確認待ちの緊急アクセス 1件" in client.get(reverse("home")).content.decode()
    client.force_login(setting["unrelated_supervisor"])
    assert REASON not in client.get(queue).content.decode()
    assert client.post(queue, {"grant": grant.pk, "note": "x"}).status_code == 403

    client.force_login(setting["own_supervisor"])
    client.post(queue, {"grant": grant.pk, "note": "正当な理由を確認", "decision": "review"})
    grant.refresh_from_db()
    assert (
        grant.reviewed_by == setting["own_supervisor"] and grant.review_note == "正当な理由を確認"
    )
    assert REASON not in client.get(queue).content.decode()
    assert Event.objects.filter(
        action=Action.UPDATE, object_ref=str(grant.pk), detail__reviewed=True
    ).exists()


def test_a_grant_number_in_other_digits_is_a_404_not_a_500(client, world):
    """Outside review: "²" passed isdigit() and broke int()."""
    client.force_login(world.supervisor)
    response = client.post(
        reverse("casework:break_glass_review"), {"grant": "²", "decision": "approve"}
    )
    assert response.status_code == 404
