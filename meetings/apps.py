"""App configuration for meetings."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MeetingsConfig(AppConfig):
    name = "meetings"
    verbose_name = _("会議")

    def seed_demo(self, context) -> None:
        from .demo import seed

        seed(context)

    def dashboard_panel(self, user):
        if not user.has_perm("meetings.view_meeting"):
            return None
        from django.utils import timezone

        from .selectors import (
            minutes_cases,
            my_open_actions,
            open_agenda_items,
            overdue_actions,
            upcoming_meetings,
        )

        # Actions are listed by case code, only on cases whose minutes the user may read;
        # their text is minutes content, read on the (audited) minutes page they link to.
        # The meetings the user attends from today on, and the cases under open review at
        # them (for an MDT member: the cases their agenda grants open, while they last).
        cases = minutes_cases(user)
        overdue = None
        if user.has_perm("casework.supervise_case"):
            overdue = list(overdue_actions(user, timezone.localdate(), cases)[:20])
        today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
        return "meetings/_dashboard_panel.html", {
            "mine": list(my_open_actions(user, cases)[:20]),
            "overdue": overdue,
            "meetings": list(upcoming_meetings(user, today)[:10]),
            "agenda": list(open_agenda_items(user, cases)[:20]),
        }

    def case_ended(self, case, reason: str) -> None:
        """A case closed, merged away or transferred ends its open agenda reviews, and with
        them the MDT grants (casework.services.notify_case_ended)."""
        from .services import end_reviews

        end_reviews(case, reason=reason)

    def case_meeting_decisions(self, case):
        """The decisions of held meetings the case's keeper hosted, newest first, for
        consented referral shares: dicts of `held_at`, `kind`, `decisions` and `item` (the
        agenda item's id, for the share's audit event). A conference another organisation
        hosted about the case (a municipality's, on a referral) is that organisation's to
        share, not the keeper's: it is left out."""
        from .models import Meeting

        # Held: minutes are taken on or after the meeting's day, with the review closed or
        # not (closing it is a separate, explicit choice).
        items = case.agenda_items.filter(
            meeting__status=Meeting.Status.HELD,
            meeting__host_id=case.organisation_id,
        ).select_related("meeting")
        return [
            {
                "held_at": item.meeting.held_at,
                "kind": item.meeting.get_kind_display(),
                "decisions": item.decisions,
                "item": str(item.pk),
            }
            for item in items.order_by("-meeting__held_at")
            if item.decisions
        ]

    def case_timeline_entries(self, case, viewer=None):
        """Each meeting that discussed the case: date, kind and state; its decisions and
        actions for a viewer with minutes access (selectors.case_meetings)."""
        from .selectors import case_timeline_entries

        return case_timeline_entries(case, viewer)
