"""Break-glass: a case outside one's access opens on a stated reason, for a limited time,
audited with the reason, and waits in the supervisors' review queue until reviewed."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from audit.models import Action, Event
from casework.models import BreakGlass
from tests.factories import make_case, make_organisation, make_user


@pytest.fixture
def setting(db):
    home, elsewhere = make_organisation(name="自組織"), make_organisation(name="他組織")
    return {
        "counsellor": make_user(Role.COUNSELLOR, organisation=home),
        "their_supervisor": make_user(Role.SUPERVISOR, organisation=elsewhere),
        "own_supervisor": make_user(Role.SUPERVISOR, organisation=home),
        "unrelated_supervisor": make_user(Role.SUPERVISOR, organisation=make_organisation()),
        "mdt": make_user(Role.MDT_MEMBER, organisation=home),
        "case": make_case(elsewhere, summary="他組織のケース"),
    }


REASON = "夜間に本人から緊急の電話があり、他機関での支援経過の確認が必要なため"


def test_grant_opens_the_case_for_a_limited_time_and_is_audited(client, setting, settings):
    settings.BREAK_GLASS_MINUTES = 30
    case, user = setting["case"], setting["counsellor"]
    client.force_login(user)
    detail = reverse("casework:case_detail", args=[case.code])
    assert client.get(detail).status_code == 404

    response = client.post(
        reverse("casework:break_glass"), {"code": case.code.lower(), "reason": REASON}
    )
    assert response["Location"] == detail
    assert client.get(detail).status_code == 200
    grant = BreakGlass.objects.get(user=user, case=case)
    assert (grant.expires_at - grant.granted_at) == datetime.timedelta(minutes=30)
    event = Event.objects.get(action=Action.BREAK_GLASS, object_ref=case.code)
    assert event.detail["reason"] == REASON and event.actor_id == user.pk

    # Expiry: once the time is over, the case is a 404 again.
    BreakGlass.objects.filter(pk=grant.pk).update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    assert client.get(detail).status_code == 404


def test_a_short_reason_or_an_unknown_code_is_refused_and_grants_nothing(client, setting):
    client.force_login(setting["counsellor"])
    url = reverse("casework:break_glass")
    short = client.post(url, {"code": setting["case"].code, "reason": "確認"})
    assert short.status_code == 200 and "文字以上" in short.content.decode()
    unknown = client.post(url, {"code": "C999999", "reason": REASON})
    assert "見つかりません" in unknown.content.decode()
    assert not BreakGlass.objects.exists()
    assert Event.objects.filter(action=Action.BREAK_GLASS, detail__found=False).exists()


def test_roles_without_the_permission_cannot_break_glass(client, setting):
    client.force_login(setting["mdt"])
    response = client.post(
        reverse("casework:break_glass"), {"code": setting["case"].code, "reason": REASON}
    )
    assert response.status_code == 403
    assert not BreakGlass.objects.exists()


def test_review_queue_and_review_mark(client, setting):
    client.force_login(setting["counsellor"])
    client.post(reverse("casework:break_glass"), {"code": setting["case"].code, "reason": REASON})
    grant = BreakGlass.objects.get()
    queue = reverse("casework:break_glass_review")
    # Both the case's organisation and the user's see it; an unrelated one does not.
    for who in ("their_supervisor", "own_supervisor"):
        client.force_login(setting[who])
        assert REASON in client.get(queue).content.decode()
        assert "確認待ちの緊急アクセス 1件" in client.get(reverse("home")).content.decode()
    client.force_login(setting["unrelated_supervisor"])
    assert REASON not in client.get(queue).content.decode()
    assert client.post(queue, {"grant": grant.pk, "note": "x"}).status_code == 403

    client.force_login(setting["their_supervisor"])
    client.post(queue, {"grant": grant.pk, "note": "正当な理由を確認"})
    grant.refresh_from_db()
    assert (
        grant.reviewed_by == setting["their_supervisor"] and grant.review_note == "正当な理由を確認"
    )
    assert REASON not in client.get(queue).content.decode()
    assert Event.objects.filter(
        action=Action.UPDATE, object_ref=str(grant.pk), detail__reviewed=True
    ).exists()
