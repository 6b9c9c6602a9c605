"""Demo referrals for `manage.py seed_demo`: every state, across municipalities.

Goes through the services, so grants, transitions and audit events are what real use
makes. Needs the casework demo cases; does nothing when referrals already exist.
"""

from __future__ import annotations

import datetime

from casework.models import Case
from referrals import services
from referrals.models import Referral

from .context import SeedContext

S = Referral.Status

# (target municipality code, kind, scopes, the states to walk through after the draft)
PLAN = [
    (
        "242012",
        Referral.Kind.RESIDENCE_MUNICIPALITY,
        ("share_basic_profile", "share_summary"),
        [S.SENT, S.ACCEPTED],
    ),
    (
        "242012",
        Referral.Kind.RESIDENCE_MUNICIPALITY,
        ("share_basic_profile",),
        [S.SENT, S.ACCEPTED, S.COMPLETED],
    ),
    ("242012", Referral.Kind.CROSS_MUNICIPALITY, (), [S.SENT, S.DECLINED]),
    ("242012", Referral.Kind.IBASHO, ("share_summary", "share_contacts"), [S.SENT]),
    ("242021", Referral.Kind.RESIDENCE_MUNICIPALITY, ("share_basic_profile",), [S.SENT]),
    ("242047", Referral.Kind.EMPLOYMENT, ("share_summary",), [S.SENT, S.WITHDRAWN]),
    ("242161", Referral.Kind.MEDICAL, (), []),
]


def seed(context: SeedContext) -> None:
    if Referral.objects.exists():
        return
    sender = context.users.get("counsellor")
    receiver = context.users.get("liaison")
    centre = context.organisations["centre"]
    if sender is None or receiver is None:
        return
    cases = list(
        Case.objects.filter(organisation=centre, restricted=False, client__isnull=False)
        .exclude(status=Case.Status.CLOSED)
        .order_by("opened_on")[: len(PLAN)]
    )
    made = 0
    for case, (code, kind, scopes, states) in zip(cases, PLAN, strict=False):
        consent: services.Consent = (
            {
                "consent_given": True,
                "consent_on": context.today - datetime.timedelta(days=30),
                "consent_method": "written",
            }
            if scopes
            else {}
        )
        referral = services.create_referral(
            sender,
            case,
            to_organisation=context.organisations[code],
            kind=kind,
            purpose="（デモ）居住地での継続的な支援をお願いします。",
            consent=consent,
            scopes=services.scopes_named(scopes),
        )
        for state in states:
            side_user = (
                sender if services.TRANSITIONS[referral.status][state] == "sender" else receiver
            )
            if side_user.organisation_id not in (
                referral.from_organisation_id,
                referral.to_organisation_id,
            ):
                break
            note = "（デモ）受け入れ枠がないため" if state == S.DECLINED else ""
            referral = services.move(side_user, referral, to_status=state, note=note)
        made += 1
    context.counts["referrals"] = made
