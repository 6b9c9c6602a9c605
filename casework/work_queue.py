"""The user's work queue: what is due today or overdue, for the dashboard, the queue page
(`casework:work_queue`) and the daily e-mail digest (`manage.py send_work_digest`).

Every item is taken from a queryset the user may see, so the check lives in the
mechanism rather than in the pages that show it: casework's own items from
`visible_contacts` (follow-ups the user is to do) and `visible_cases` (the user's cases
without contact), the other apps' through the hook `signals.work_queue_items`, each from
its own scoped selectors (meetings: the user's open actions on cases whose minutes they
may read; outreach: the user's visits of visible cases; referrals: the organisation's
inbox). A user who may not view cases has an empty queue. Items carry a case code, a
date and a link, never a name or any text of the record.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, replace
from typing import cast

from django.conf import settings
from django.db import models
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.notices import notify

from . import signals
from .models import Case, Contact, without_contact_since
from .selectors import visible_cases, visible_contacts


class Kind(models.TextChoices):
    """The kinds of item, in the order the queue shows them."""

    FOLLOW_UP = "follow_up", _("フォローアップ")
    ACTION = "action", _("会議の対応事項")
    NO_CONTACT = "no_contact", _("連絡が途絶えている担当ケース")
    REFERRAL = "referral", _("返答待ちの紹介")
    VISIT = "visit", _("帰着連絡のない訪問")


# What an item's date means, by kind.
DATE_LABELS = {
    Kind.FOLLOW_UP: _("対応予定日"),
    Kind.ACTION: _("期限"),
    Kind.NO_CONTACT: _("連絡の目安日"),
    Kind.REFERRAL: _("送付日"),
    Kind.VISIT: _("予定日"),
}


@dataclass(frozen=True)
class WorkItem:
    kind: str  # a Kind value
    case_code: str  # "" for an anonymous contact's follow-up
    date: datetime.date  # the local day it is due (for a referral: sent; a visit: planned)
    overdue: bool
    url: str


@dataclass(frozen=True)
class WorkGroup:
    kind: Kind
    items: list[WorkItem]  # every item, or the first ones (WorkQueue.top)
    count: int
    overdue: int

    @property
    def label(self) -> str:
        return str(self.kind.label)

    @property
    def date_label(self) -> str:
        return str(DATE_LABELS[self.kind])

    @property
    def more(self) -> int:
        """How many items are not shown."""
        return self.count - len(self.items)


@dataclass(frozen=True)
class WorkQueue:
    groups: list[WorkGroup]  # in Kind order; a kind with no item is left out

    @property
    def total(self) -> int:
        return sum(group.count for group in self.groups)

    @property
    def overdue(self) -> int:
        return sum(group.overdue for group in self.groups)

    def top(self, n: int) -> WorkQueue:
        """The same queue showing the first `n` items of each kind (counts unchanged)."""
        return WorkQueue([replace(group, items=group.items[:n]) for group in self.groups])


def follow_ups_due(
    user: User, *, today: datetime.date, cases: QuerySet[Case] | None = None
) -> QuerySet[Contact]:
    """The user's own follow-ups due today or earlier and not done, on visible contacts."""
    return visible_contacts(user, cases=cases).filter(
        staff=user, follow_up_done=False, follow_up_due__lte=today
    )


def no_contact_days(status: str) -> int | None:
    """After how many days without contact a case of this status is listed (None: never,
    as for closed cases). Settings: NO_CONTACT_DAYS_BY_STATUS."""
    if status == Case.Status.CLOSED:
        return None
    days = settings.NO_CONTACT_DAYS_BY_STATUS.get(status)
    return None if days is None else int(days)


def silent_cases(
    user: User, *, now: datetime.datetime, cases: QuerySet[Case] | None = None
) -> QuerySet[Case]:
    """The user's cases (lead worker, among the visible ones) without contact for longer
    than their status allows (`models.without_contact_since`: a case opened within that
    time is left out until its first contact is due)."""
    cases = visible_cases(user) if cases is None else cases
    when = Q(pk__in=[])
    for status in Case.Status.values:
        days = no_contact_days(status)
        if days is not None:
            when |= Q(status=status) & without_contact_since(now - datetime.timedelta(days=days))
    return cases.filter(lead_workers=user).filter(when)


def _own_items(user: User, *, today: datetime.date, now: datetime.datetime) -> list[WorkItem]:
    cases = visible_cases(user)
    items = []
    for pk, due, code in follow_ups_due(user, today=today, cases=cases).values_list(
        "pk", "follow_up_due", "case__code"
    ):
        if due is None:  # not so: filtered on follow_up_due__lte
            continue
        url = (
            reverse("casework:case_detail", args=[code])
            if code
            else reverse("casework:contact_correct", args=[pk])
        )
        items.append(WorkItem(Kind.FOLLOW_UP, code or "", due, due < today, url))
    for code, status, last_contact_at, opened_on in silent_cases(
        user, now=now, cases=cases
    ).values_list("code", "status", "last_contact_at", "opened_on"):
        days = no_contact_days(status) or 0
        since = opened_on
        if last_contact_at is not None:
            since = max(since, timezone.localtime(last_contact_at).date())
        due = since + datetime.timedelta(days=days)
        items.append(
            WorkItem(
                Kind.NO_CONTACT,
                code,
                due,
                due < today,
                reverse("casework:case_detail", args=[code]),
            )
        )
    return items


def work_queue(user: User, *, now: datetime.datetime | None = None) -> WorkQueue:
    """The user's queue at `now` (default: now): each kind's items due today or earlier,
    the longest overdue first."""
    if not user.has_perm("casework.view_case"):
        return WorkQueue([])
    now = now or timezone.now()
    today = timezone.localdate(now)
    items = _own_items(user, today=today, now=now)
    for _receiver, rows in signals.work_queue_items.send(
        sender=None, user=user, today=today, now=now
    ):
        # django-stubs types what a receiver returns as `str | None`; this hook's
        # receivers return lists of WorkItem (signals.work_queue_items).
        items.extend(cast(list[WorkItem], rows))
    groups = []
    for kind in Kind:
        mine = sorted(
            (item for item in items if item.kind == kind),
            key=lambda item: (item.date, item.case_code),
        )
        if mine:
            groups.append(WorkGroup(kind, mine, len(mine), sum(item.overdue for item in mine)))
    return WorkQueue(groups)


# --- the daily digest -------------------------------------------------------------------

# Codes named per kind in a digest; beyond them, only the count.
DIGEST_CODES = 30


def digest(queue: WorkQueue, *, today: datetime.date) -> tuple[str, str]:
    """The subject and plain-text body of a digest: per kind, its count, how many are
    overdue and the case codes. Nothing else leaves the system: no name, no text of a
    record, no date of a person's life."""
    subject = gettext("やることリスト %(day)s：%(total)s件（期限超過 %(overdue)s件）") % {
        "day": f"{today:%Y/%m/%d}",
        "total": queue.total,
        "overdue": queue.overdue,
    }
    lines = [
        gettext("%(day)s 時点で期限が来ている作業です（ケースコードと件数のみ）。")
        % {"day": f"{today:%Y/%m/%d}"},
        "",
    ]
    for group in queue.groups:
        codes = [item.case_code or gettext("匿名") for item in group.items[:DIGEST_CODES]]
        if group.count > DIGEST_CODES:
            codes.append(gettext("ほか %(n)s件") % {"n": group.count - DIGEST_CODES})
        lines.append(
            gettext("%(kind)s %(count)s件（うち期限超過 %(overdue)s件）: %(codes)s")
            % {
                "kind": group.label,
                "count": group.count,
                "overdue": group.overdue,
                "codes": ", ".join(codes),
            }
        )
    lines += ["", gettext("詳しくはシステムにログインして、やることリストをご覧ください。")]
    lines.append(gettext("このメールが不要になったら、個人設定で受け取りをやめられます。"))
    return subject, "\n".join(lines) + "\n"


def digest_recipients() -> QuerySet[User]:
    """Active users who opted in and have an e-mail address."""
    return User.objects.filter(is_active=True, work_digest=True).exclude(email="")


def send_digests(*, now: datetime.datetime | None = None) -> int:
    """E-mail each recipient their queue at `now`, one message each, if it holds anything;
    each message is an audit event (accounts.notices: topic "work_digest", the recipient's
    id and the counts by kind). Returns how many were sent."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    sent = 0
    with translation.override(settings.LANGUAGE_CODE):
        for user in digest_recipients().order_by("pk"):
            queue = work_queue(user, now=now)
            if not queue.total:
                continue
            subject, body = digest(queue, today=today)
            counts = {group.kind.value: group.count for group in queue.groups}
            sent += notify(
                [user],
                subject=subject,
                body=body,
                topic="work_digest",
                detail={"user": user.pk, "counts": counts, "overdue": queue.overdue},
            )
    return sent
