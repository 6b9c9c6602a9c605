"""App configuration for referrals."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReferralsConfig(AppConfig):
    name = "referrals"
    verbose_name = _("紹介・移管")

    def seed_demo(self, context) -> None:
        from .demo import seed

        seed(context)

    def case_timeline_entries(self, case, viewer=None):
        """Referral transitions and transfers shown in the case history."""
        from .selectors import timeline_entries

        return timeline_entries(case)

    def referral_scope_cases(self, user):
        """The cases the user's organisation reaches through its referral grants
        (selectors.shared_cases), for meetings' case conferences."""
        from .selectors import shared_cases

        return shared_cases(user)

    def dashboard_panel(self, user):
        if not user.has_perm("referrals.view_referral"):
            return None
        from .selectors import awaiting_response

        return "referrals/_dashboard_panel.html", {"awaiting": awaiting_response(user)}
