"""A referral's transitions: each checked, audited and in the case history; its purpose is
ciphertext at rest."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from audit.models import Action, Event
from casework.selectors import case_timeline
from referrals import services
from referrals.models import Referral
from tests.referrals.helpers import (
    PURPOSE,
    S,
    refer,
)

pytestmark = pytest.mark.django_db


def test_invalid_transitions_and_the_wrong_side_are_refused(setting):
    referral = services.create_referral(
        setting.counsellor, setting.case, to_organisation=setting.town, kind="ibasho"
    )
    with pytest.raises(ValidationError, match="には変更できません"):
        services.move(
            setting.counsellor, referral, to_status=S.ACCEPTED
        )  # draft cannot be accepted
    with pytest.raises(PermissionDenied):
        services.move(setting.liaison, referral, to_status=S.SENT)  # only the sender sends
    services.move(setting.counsellor, referral, to_status=S.SENT)
    with pytest.raises(PermissionDenied):
        services.move(
            setting.counsellor, referral, to_status=S.ACCEPTED
        )  # only the receiver accepts
    with pytest.raises(ValidationError, match="理由"):
        services.move(setting.liaison, referral, to_status=S.DECLINED)
    services.move(setting.liaison, referral, to_status=S.DECLINED, note="対象外のため")
    with pytest.raises(ValidationError):
        services.move(setting.counsellor, referral, to_status=S.WITHDRAWN)  # declined is final
    assert Referral.objects.get().status == S.DECLINED


def test_every_transition_is_audited_and_in_the_case_history(setting):
    referral = refer(setting, ("share_summary",))
    services.move(setting.liaison, referral, to_status=S.COMPLETED)
    transitions = list(referral.transitions.values_list("to_status", "by__username"))
    sender, receiver = setting.counsellor.username, setting.liaison.username
    assert transitions == [
        ("draft", sender),
        ("sent", sender),
        ("accepted", receiver),
        ("completed", receiver),
    ]
    audited = Event.objects.filter(object_type="referrals.Referral", action=Action.UPDATE)
    assert [e.detail["to"] for e in audited] == ["sent", "accepted", "completed"]
    history = [
        entry.item
        for entry in case_timeline(setting.case, viewer=setting.counsellor)
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
