"""E-mail each opted-in user their work queue: run from a scheduler (cron) once a day,
in the morning.

One plain-text message per active user who opted in (accounts:preferences) and has an
e-mail address, and only when their queue holds something: per kind, the count, how many
are overdue and the case codes; no name and no text of any record
(casework.work_queue.digest). Each message sent is an audit event (NOTICE, work_digest).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from casework.work_queue import send_digests


class Command(BaseCommand):
    help = "E-mail each opted-in user the case codes and counts of their work queue."

    def handle(self, *args: Any, **options: Any) -> None:
        sent = send_digests()
        self.stdout.write(f"Work digests sent: {sent}")
