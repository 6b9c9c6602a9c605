"""App configuration for referrals."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReferralsConfig(AppConfig):
    name = "referrals"
    verbose_name = _("紹介・移管")

    def case_timeline_entries(self, case, viewer=None):
        """Referral transitions and transfers shown in the case history."""
        from .selectors import timeline_entries

        return timeline_entries(case)

    def referral_scope_cases(self, user):
        """The cases the user's organisation reaches through its referral grants
        (selectors.shared_cases), for meetings' case conferences."""
        from .selectors import shared_cases

        return shared_cases(user)

    def referral_unanswered_since(self, organisation_id: int):
        """A subquery on an outer Case: when its oldest referral from `organisation_id`
        still awaiting the receiver's answer was sent (meetings.selectors.build_pack)."""
        from .selectors import oldest_unanswered_sent_at

        return oldest_unanswered_sent_at(organisation_id)

    def dashboard_panel(self, user):
        if not user.has_perm("referrals.view_referral"):
            return None
        from .selectors import awaiting_response

        return "referrals/_dashboard_panel.html", {"awaiting": awaiting_response(user)}
