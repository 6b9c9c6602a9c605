"""Helpers of the referrals tests: the texts a referral shares, referring, the shared page."""

from __future__ import annotations

import datetime

from django.urls import reverse

from referrals import services
from referrals.models import Referral

S = Referral.Status


CONSENT: services.Consent = {
    "consent_given": True,
    "consent_on": datetime.date(2024, 5, 1),
    "consent_method": "written",
}


NAME = "紹介 花子"


PURPOSE = "居住地での継続支援を依頼"


SUMMARY = "ケース概要の文"


CONTACT = "相談記録の文"


def refer(s, scopes=(), consent=CONSENT):
    referral = services.create_referral(
        s.counsellor,
        s.case,
        to_organisation=s.town,
        kind=Referral.Kind.RESIDENCE_MUNICIPALITY,
        purpose=PURPOSE,
        consent=consent if scopes else {},
        scopes=services.scopes_named(scopes),
    )
    referral = services.move(s.counsellor, referral, to_status=S.SENT)
    return services.move(s.liaison, referral, to_status=S.ACCEPTED)


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
