"""App configuration for outreach."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OutreachConfig(AppConfig):
    name = "outreach"
    verbose_name = _("アウトリーチ・グループ支援")

    def seed_demo(self, context) -> None:
        from .demo import seed

        seed(context)

    def dashboard_panel(self, user):
        if not user.has_perm("outreach.view_visit"):
            return None
        from django.utils import timezone

        from .selectors import my_visits_today, overdue_visits

        overdue = None
        if user.has_perm("casework.supervise_case"):
            overdue = list(overdue_visits(now=timezone.now(), organisation_id=user.organisation_id))
        return "outreach/_dashboard_panel.html", {
            "today": list(my_visits_today(user)),
            "overdue": overdue,
        }

    def case_timeline_entries(self, case, viewer=None):
        """Planned and ongoing visits; a done visit shows as its contact."""
        from django.utils.translation import gettext

        from .models import Visit

        return [
            (
                visit.planned_start,
                gettext("%(kind)s（%(status)s）")
                % {"kind": visit.get_kind_display(), "status": visit.get_status_display()},
            )
            for visit in case.visits.exclude(status=Visit.Status.DONE)
        ]
