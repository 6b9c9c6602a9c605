"""Meeting reads: which meetings and agenda items a user reaches, minutes and actions,
dashboards, counts and the case's record of its meetings. The pack is `meetings.pack`.

Which meetings: `meetings_for` / `meeting_for` (`Meeting.objects.visible_to`; views never
filter by host themselves): the host's staff who run meetings see all of its meetings and
manage them; an MDT member sees, read-only, the meetings they attend and, on them, only
the agenda cases their open grants reach; nobody sees another organisation's meetings.

Minutes follow the case (casework.access): reading an agenda item's minutes, or acting on
its actions, needs Capability.MINUTES on the item's case (the owner kinds, or an attending
MDT member's open agenda grant); writing them is also only for the meeting's attendees and
the host's supervisors (`check_minutes`). Open actions are listed only for cases the viewer
can see. At a case conference, a case in the host's referral scope is reached by the
referral path (`by_referral`): its agenda item and that item's minutes, nothing else.
"""

from __future__ import annotations

import datetime
import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, TypedDict, cast

from django.core.exceptions import PermissionDenied
from django.db.models import (
    Count,
    DateTimeField,
    Exists,
    OuterRef,
    Prefetch,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.selectors import holders_of
from audit.models import Action
from audit.services import record
from casework import signals
from casework.access import Capability, cached_access
from casework.models import Case
from casework.selectors import TimelineEntry, find_visible_case, require_visible, visible_cases

from .models import ActionItem, AgendaItem, ExternalAttendance, Meeting


def may_manage(user: User, meeting: Meeting) -> bool:
    """Whether `user` runs `meeting`: staff of the host who hold meetings.change_meeting
    plan it, change its agenda and attendees and print its pack."""
    return user.has_perm("meetings.change_meeting") and meeting.host_id == user.organisation_id


def meetings_for(user: User) -> QuerySet[Meeting]:
    """The meetings `user` may open, all hosted by their own organisation: every one for
    the staff who run meetings (meetings.change_meeting), only those they attend for the
    others (an MDT member). Another organisation's meeting never, attended or not (someone
    who moved keeps no view of their old organisation's meetings)."""
    return Meeting.objects.visible_to(user)


def meeting_for(user: User, pk: int | str, *, manage: bool = False) -> Meeting:
    """The meeting `pk` among `meetings_for(user)`, else 404 (the same answer as for a
    wrong id: a meeting one does not attend is not there for them). With `manage`, 403
    for one who may see the meeting but not run it (`may_manage`)."""
    meeting = meetings_for(user).filter(pk=pk).first()
    if meeting is None:
        raise Http404
    if manage and not may_manage(user, meeting):
        raise PermissionDenied
    return meeting


def attended_agenda(user: User, meeting: Meeting) -> QuerySet[AgendaItem]:
    """The agenda of `meeting` as a reader who does not run it sees it: the items whose
    case `user` reaches with Capability.MINUTES (an attending MDT member: while the review
    is open); the other items are not shown at all."""
    return (
        meeting.items.filter(case__in=minutes_cases(user))
        .select_related("case")
        .order_by("created_at")
    )


def upcoming_meetings(user: User, *, since: datetime.datetime) -> QuerySet[Meeting]:
    """The meetings `user` attends, held from `since` on, soonest first."""
    return meetings_for(user).filter(attendees=user, held_at__gte=since).order_by("held_at")


def open_agenda_items(user: User, *, cases: QuerySet[Case] | None = None) -> QuerySet[AgendaItem]:
    """Items under open review at the meetings `user` attends, on cases whose minutes they
    may read (`cases`, default `minutes_cases(user)`): for an MDT member, exactly the cases
    their agenda grants open. `writable` says whether they also act on the case
    (Capability.WRITE) or only read it and its minutes until the review closes."""
    cases = minutes_cases(user) if cases is None else cases
    writable = visible_cases(user, capability=Capability.WRITE).filter(pk=OuterRef("case_id"))
    return (
        AgendaItem.objects.visible_to(user, cases)
        .filter(
            meeting__in=meetings_for(user).filter(attendees=user),
            review_closed_at__isnull=True,
        )
        .annotate(writable=Exists(writable))
        .select_related("case", "meeting")
        .order_by("meeting__held_at", "created_at")
    )


def meeting_staff(meeting: Meeting) -> QuerySet[User]:
    """Who may attend `meeting`, present a case or own an action from it: the host's
    active staff whose role takes part in meetings (meetings.view_meeting), never a
    statistics viewer, auditor or administrator."""
    return _staff_of(meeting.host_id)


def new_meeting_staff(user: User) -> QuerySet[User]:
    """`meeting_staff` of a meeting `user` is about to plan (services.plan_meeting makes
    the user's organisation its host)."""
    return _staff_of(user.organisation_id)


def _staff_of(host_id: int | None) -> QuerySet[User]:
    return holders_of("meetings.view_meeting", organisation_id=host_id).order_by("username")


# --- the referral path: case conferences about referred cases -----------------------------

# What the referral path opens at a case conference: the agenda (add, drop) and the
# minutes of that item. Never the case's pages, history, identity, or other minutes.
REFERRAL_PATH = frozenset({Capability.WRITE, Capability.MINUTES})


def referral_scope(user: User) -> QuerySet[Case]:
    """The cases the user's organisation reaches through the consented referral grants it
    holds, as referrals publishes them (signal `casework.signals.referral_scope_cases`, so
    meetings imports no sibling); never a restricted case."""
    scope = Case.objects.none()
    for _receiver, cases in signals.referral_scope_cases.send(sender=None, user=user):
        # The hook's answer (casework.signals); django-stubs types every answer `str | None`.
        scope = scope | cast("QuerySet[Case]", cases)
    return scope.filter(restricted=False)


def _referral_path_open(user: User, meeting: Meeting) -> bool:
    return (
        meeting.kind == Meeting.Kind.CASE_CONFERENCE
        and meeting.host_id == user.organisation_id
        and user.has_perm("meetings.change_meeting")
    )


def by_referral(user: User, meeting: Meeting, *, case: Case) -> bool:
    """Whether `user` reaches `case` at `meeting` by the referral path: a case conference
    hosted by the user's organisation, a user who runs its meetings, and a case in the
    organisation's referral scope (`referral_scope`)."""
    return _referral_path_open(user, meeting) and referral_scope(user).filter(pk=case.pk).exists()


def require_agenda_access(
    user: User, meeting: Meeting, *, case: Case, capability: Capability
) -> None:
    """Refuse (PermissionDenied) unless `user` reaches `case` at `meeting` with
    `capability`: through casework.access, or, for the agenda and the item's minutes at a
    case conference, by the referral path. The check every agenda and minutes service and
    selector makes."""
    if cached_access(user, case).allows(capability):
        return
    if capability in REFERRAL_PATH and by_referral(user, meeting, case=case):
        return
    raise PermissionDenied


def agenda_case(user: User, meeting: Meeting, *, code: str) -> Case | None:
    """The case with this code that `user` may put on `meeting`'s agenda: one they may act
    on, or at a case conference of their organisation one in its referral scope. None
    otherwise, whatever the reason, so that a code outside both tells nothing."""
    case = find_visible_case(user, code, capability=Capability.WRITE)
    if case is None and _referral_path_open(user, meeting):
        case = referral_scope(user).filter(code=code).first()
    return case


def referral_items(user: User, meeting: Meeting) -> list[AgendaItem]:
    """The agenda items of `meeting` that `user` reaches by the referral path: listed by
    code on the meeting page (the pack lists only cases of the host)."""
    if not _referral_path_open(user, meeting):
        return []
    return list(meeting.items.filter(case__in=referral_scope(user)).select_related("case"))


def referral_candidates(user: User, meeting: Meeting) -> list[Case]:
    """The referred cases `user` may put on `meeting`'s agenda by the referral path and
    that are not on it yet (codes and nothing else: the page lists them to add)."""
    from .services import agenda_open

    if not _referral_path_open(user, meeting) or not agenda_open(meeting):
        return []
    return list(
        referral_scope(user)
        .exclude(agenda_items__meeting=meeting)
        .exclude(status=Case.Status.CLOSED)
        .only("pk", "code")
        .order_by("code")
    )


def meeting_defaults(user: User) -> dict[str, str]:
    """What a new meeting form starts with: a centre's monthly MDT meeting, inside the
    organisation; for staff who keep no cases of their own (a municipality's liaison), the
    case conference they hold, as a 支援会議."""
    if user.has_perm("casework.view_org_cases"):
        return {"kind": Meeting.Kind.MDT_MONTHLY, "legal_basis": Meeting.LegalBasis.INTERNAL}
    return {
        "kind": Meeting.Kind.CASE_CONFERENCE,
        "legal_basis": Meeting.LegalBasis.SUPPORT_MEETING,
    }


def host_keeps_case(item: AgendaItem) -> bool:
    """Whether the meeting's host keeps the item's case. Only then may the minutes plan the
    case (next review date, MDT support, actions); a conference about a referred case
    records what it discussed and decided."""
    return item.case.organisation_id == item.meeting.host_id


def may_plan(user: User, item: AgendaItem) -> bool:
    """Whether `user`'s minutes may plan the case (next review date, MDT support, actions):
    the meeting's host keeps the case (`host_keeps_case`) and the user may act on it
    (Capability.WRITE). An MDT member records what was discussed and decided, and a
    referred case is planned by its keeper."""
    return host_keeps_case(item) and cached_access(user, item.case).allows(Capability.WRITE)


def minutes_version(item: AgendaItem) -> str:
    """The version of `item`'s minutes a form was drawn from: its latest history row. Two
    attendees writing the same minutes at once: the second is told, never silently
    overwrites the first (services.record_minutes)."""
    latest = (
        item.history.order_by("-history_date", "-history_id")
        .values_list("history_id", flat=True)
        .first()
    )
    return str(latest or 0)


def _referral_waiting_since(organisation_id: int) -> Subquery | Value:
    """The referrals app's subquery (signal `casework.signals.referral_unanswered_since`;
    meetings imports no sibling app)."""
    sent = signals.referral_unanswered_since.send(sender=None, organisation_id=organisation_id)
    for _receiver, subquery in sent:
        # The hook's answer (casework.signals); django-stubs types every answer `str | None`.
        return Subquery(cast("QuerySet[Any]", subquery))
    return Value(None, output_field=DateTimeField())


# --- minutes and actions ------------------------------------------------------------------


def may_write_minutes(user: User, meeting: Meeting) -> bool:
    """Minutes are written by the meeting's attendees and the host's supervisors (who must
    also reach the case with Capability.MINUTES: `check_minutes`)."""
    if not user.has_perm("meetings.change_agendaitem") or meeting.host_id != user.organisation_id:
        return False
    return user.has_perm("casework.supervise_case") or meeting.attendees.filter(pk=user.pk).exists()


def check_minutes(user: User, item: AgendaItem, *, write: bool = False) -> None:
    """Refuse (PermissionDenied) unless `user` may read, or with `write` write, the minutes
    of `item`: the check every reader and writer of minutes makes (services included)."""
    if item.meeting.host_id != user.organisation_id:
        raise PermissionDenied
    require_agenda_access(user, item.meeting, case=item.case, capability=Capability.MINUTES)
    if write and not may_write_minutes(user, item.meeting):
        raise PermissionDenied


def agenda_item_for(user: User, pk: uuid.UUID | str, *, capability: Capability) -> AgendaItem:
    """The agenda item `pk` of a meeting of the user's organisation, if the user reaches its
    case with `capability` (or, for the agenda and minutes, by the referral path).

    404 when there is no such item or the user cannot see its case at all (the same answer
    as for a wrong id); 403 when they see the case but not with `capability`.
    """
    item = (
        AgendaItem.objects.at_own_meetings(user)
        .select_related("meeting", "case")
        .filter(pk=pk)
        .first()
    )
    if item is None:
        raise Http404
    if not cached_access(user, item.case):
        # A case conference's item on a referred case: its agenda and minutes only.
        if capability in REFERRAL_PATH and by_referral(user, item.meeting, case=item.case):
            return item
        raise Http404
    require_visible(user, item.case, capability=capability)
    return item


def minutes_item_for(user: User, pk: uuid.UUID | str, *, write: bool = False) -> AgendaItem:
    """The agenda item `pk` whose minutes `user` may read (`write`: and write); 404 or 403
    as `agenda_item_for`, and 403 for a writer who neither attends nor supervises."""
    item = agenda_item_for(user, pk, capability=Capability.MINUTES)
    check_minutes(user, item, write=write)
    return item


def record_minutes_read(user: User, item: AgendaItem) -> None:
    """A page showed the minutes of `item` (discussion, decisions, action texts): one audit
    event on its case, naming the item, never its content."""
    record(
        Action.VIEW,
        obj=item.case,
        actor=user,
        detail={"minutes": [str(item.pk)], "case": item.case.code, "meeting": item.meeting_id},
    )


def record_actions_read(user: User, actions: list[ActionItem]) -> None:
    """A page showed the text of `actions` (the pack's carried-over actions): one audit
    event per case, naming the agenda items, never the text. Per case, as the access review
    reads case views (casework.access_review): two queries per case with carried-over
    actions, bounded by the previous meeting's agenda."""
    by_case: defaultdict[Case, set[AgendaItem]] = defaultdict(set)
    for action in actions:
        by_case[action.case].add(action.agenda_item)
    for case, items in by_case.items():
        record(
            Action.VIEW,
            obj=case,
            actor=user,
            detail={
                "minutes": sorted(str(item.pk) for item in items),
                "case": case.code,
                "meeting": min(item.meeting_id for item in items),  # the previous meeting
            },
        )


def action_for(user: User, pk: uuid.UUID | str) -> ActionItem:
    """An action `user` may complete: their own, or for a supervisor any of the host's.

    404 unless it is one of those and the user can see its case; 403 when they see the case
    but have no minutes access to it.
    """
    actions = ActionItem.objects.at_own_meetings(user).select_related(
        "case", "agenda_item__meeting"
    )
    if not user.has_perm("casework.supervise_case"):
        actions = actions.filter(assignee_id=user.pk)  # others' actions are not there for you
    action = actions.filter(pk=pk).first()
    if action is None or not cached_access(user, action.case):
        raise Http404
    require_visible(user, action.case, capability=Capability.MINUTES)
    return action


def minutes_cases(user: User) -> QuerySet[Case]:
    """The cases whose minutes and actions `user` may read (Capability.MINUTES)."""
    return visible_cases(user, capability=Capability.MINUTES)


def my_open_actions(user: User, *, cases: QuerySet[Case] | None = None) -> QuerySet[ActionItem]:
    """The user's open actions, only on cases whose minutes they may read: an assignee
    who can no longer see the case no longer sees its action."""
    cases = minutes_cases(user) if cases is None else cases
    return (
        ActionItem.objects.visible_to(user, cases)
        .filter(assignee_id=user.pk, done_at__isnull=True)
        .select_related("case")
    )


def overdue_actions(
    user: User, *, today: datetime.date, cases: QuerySet[Case] | None = None
) -> QuerySet[ActionItem]:
    """Overdue actions of the meetings of the user's organisation, on cases whose minutes
    the user may read."""
    cases = minutes_cases(user) if cases is None else cases
    return (
        ActionItem.objects.at_own_meetings(user)
        .filter(done_at__isnull=True, due_on__lt=today, case__in=cases)
        .select_related("case", "assignee")
    )


# --- counts ---------------------------------------------------------------------------------


class MeetingCounts(TypedDict):
    meetings_by_kind: dict[str, int]
    mdt_cases_distinct: int
    mdt_agenda_items: int
    municipalities_with_case_conference: int
    network_attendance_by_type: dict[str, int]


def counts(
    *, start: datetime.date, end: datetime.date, host_ids: list[int] | None = None
) -> MeetingCounts:
    """Held meetings in [start, end]: by kind; MDT cases 実 (distinct) and 延べ (items);
    municipalities holding a case conference; network attendance by organisation type.
    Statistics: counts across organisations (the caller narrows them by `host_ids`)."""
    held = Meeting.objects.unscoped().filter(
        status=Meeting.Status.HELD, held_at__date__range=(start, end)
    )
    if host_ids is not None:
        held = held.filter(host_id__in=host_ids)
    items = AgendaItem.objects.unscoped().filter(
        meeting__in=held, meeting__kind=Meeting.Kind.MDT_MONTHLY
    )
    mdt = items.aggregate(distinct=Count("case", distinct=True), total=Count("id"))
    network = ExternalAttendance.objects.filter(
        meeting__in=held, meeting__kind=Meeting.Kind.NETWORK
    )
    return {
        "meetings_by_kind": dict(held.values_list("kind").annotate(n=Count("id"))),
        "mdt_cases_distinct": mdt["distinct"],
        "mdt_agenda_items": mdt["total"],
        "municipalities_with_case_conference": held.filter(
            kind=Meeting.Kind.CASE_CONFERENCE, host__kind="municipality"
        )
        .values("host")
        .distinct()
        .count(),
        "network_attendance_by_type": dict(
            network.values_list("organisation_type").annotate(n=Sum("count"))
        ),
    }


# --- the case's record -----------------------------------------------------------------------


@dataclass(frozen=True)
class CaseMeeting:
    """A meeting that discussed a case, as the case's timeline and printed record show it:
    its date, kind and state always; its decisions and actions only with `minutes`."""

    item: AgendaItem
    minutes: bool  # the viewer reaches the case with Capability.MINUTES
    actions: list[ActionItem]
    minutes_url: str  # the item's minutes page, when the viewer can open it; else ""

    @property
    def state(self) -> str:
        if self.item.meeting.status == Meeting.Status.PLANNED:
            return _("開催予定")
        return _("検討中") if self.item.review_closed_at is None else _("検討済み")


def case_meetings(case: Case, *, viewer: User | None) -> list[CaseMeeting]:
    """Every meeting that put `case` on its agenda, oldest first, whichever organisation
    hosted it: the decisions and actions are part of the case's record and follow the case
    (casework.access), shown only to a viewer who reaches it with Capability.MINUTES (owner
    kinds, or an attending MDT member's open agenda grant); anyone else who reads the case
    (break-glass) sees that a meeting discussed it, and when. Two queries at most.
    """
    minutes = viewer is not None and cached_access(viewer, case).allows(Capability.MINUTES)
    items = case.agenda_items.select_related("meeting")
    if minutes:
        items = items.prefetch_related(
            Prefetch(
                "actions",
                # A prefetch: Django narrows it to the actions of the items above.
                queryset=ActionItem.objects.unscoped()
                .select_related("assignee")
                .order_by("due_on"),
            )
        )
    # The organisation whose minutes pages the viewer opens from here, if any.
    opens_minutes_of = None
    if viewer is not None and minutes and viewer.has_perm("meetings.change_agendaitem"):
        opens_minutes_of = viewer.organisation_id
    rows = []
    for item in items.order_by("meeting__held_at"):
        url = ""
        if opens_minutes_of is not None and item.meeting.host_id == opens_minutes_of:
            url = reverse("meetings:minutes", kwargs={"pk": item.pk})
        rows.append(
            CaseMeeting(
                item=item,
                minutes=minutes,
                actions=list(item.actions.all()) if minutes else [],  # prefetched above
                minutes_url=url,
            )
        )
    return rows


def case_timeline_entries(case: Case, *, viewer: User | None) -> list[TimelineEntry]:
    """The case timeline's meeting entries (casework.selectors.case_timeline); an entry
    showing minutes names its agenda item for the page's audit event."""
    return [
        TimelineEntry(
            row.item.meeting.held_at,
            "event",
            row,
            template="meetings/_case_meeting.html",
            shows=("minutes", str(row.item.pk)) if row.minutes else None,
        )
        for row in case_meetings(case, viewer=viewer)
    ]
