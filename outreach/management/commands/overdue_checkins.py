"""List visits whose safety check-in is overdue; for a scheduler (cron) every few minutes.

Each overdue visit is audited once, when first found. Exit status 3 when any is overdue,
so a scheduler can alert on it; with --notify the supervisors of the organisation are
e-mailed (through Django's e-mail settings).
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.mail import send_mail
from django.core.management.base import BaseCommand

from accounts.selectors import holders_of
from outreach.services import report_overdue


class Command(BaseCommand):
    help = "List (and optionally notify) visits whose safety check-in is overdue."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--notify", action="store_true", help="E-mail the supervisors.")

    def handle(self, *args: Any, notify: bool = False, **options: Any) -> None:
        overdue = report_overdue()
        if not overdue:
            self.stdout.write("No overdue check-ins.")
            return
        for visit in overdue:
            # Codes only: a message may leave the system, so no identity and no notes.
            self.stdout.write(
                f"OVERDUE {visit.case.code} {visit.get_kind_display()} "
                f"due {visit.checkin_due_at:%Y-%m-%d %H:%M} (organisation {visit.organisation_id})"
            )
            if notify:
                supervisors = holders_of(
                    "casework.supervise_case", organisation_id=visit.organisation_id
                ).exclude(email="")
                send_mail(
                    "帰着連絡の遅れ / Overdue visit check-in",
                    f"ケース {visit.case.code} の訪問で帰着連絡が期限"
                    f"（{visit.checkin_due_at:%H:%M}）を過ぎています。",
                    None,
                    [s.email for s in supervisors],
                )
        sys.exit(3)
