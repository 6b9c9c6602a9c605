"""Reads that more than one caller needs, scoped to what the user may see.

The baseline (DESIGN.md section 4): staff with the case permissions see the cases of their
own organisation; a restricted case only its lead workers and those who supervise. Every
other way in is an explicit object grant (django-guardian, direct-FK tables): MDT agenda,
accepted referral, share, break-glass. Views never filter for permissions themselves.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any, cast

from django.db.models import F, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from accounts.models import User
from audit.models import Action
from audit.services import record

from . import access, signals
from .access import Capability
from .models import BreakGlass, Case, Client, Contact, last_contact_key
from .records import normalise_code


def visible_cases(user: User, *, capability: Capability = Capability.READ) -> QuerySet[Case]:
    """The cases `user` reaches with `capability` (default: may read), by any access kind
    (casework.access). `visible_cases(user, capability=Capability.EXPORT)` is what they may
    export."""
    return Case.objects.visible_to(user, capability)


# The columns the case list shows. The list reads only these: a whole case or client row
# carries ciphertexts the list never shows, and turning them into model instances costs
# more than the query itself (docs/scaling.md).
CASE_LIST_COLUMNS = (
    "code",
    "status",
    "opened_on",
    "last_contact_at",
    "restricted",
    "mdt_supported",
    "client__municipality__name",
)


# Most recently contacted first (never contacted last), then most recently opened: the
# order of the case list and the dashboard's open cases, and of the indexes
# case_org_recent and case_recent.
CASE_LIST_ORDER = (last_contact_key().desc(), F("opened_on").desc())


def case_list(user: User) -> QuerySet[Case]:
    """The case list before its filters: the visible cases as `listed`."""
    return listed(visible_cases(user))


def listed(cases: QuerySet[Case]) -> QuerySet[Case]:
    """Cases as the case list reads them: most recently contacted first, the columns the
    list shows, and the lead workers' names (`lead_worker_list`)."""
    workers = User.objects.only("username", "display_name")
    return (
        cases.select_related("client__municipality")
        .only(*CASE_LIST_COLUMNS)
        .prefetch_related(Prefetch("lead_workers", queryset=workers, to_attr="lead_worker_list"))
        .order_by(*CASE_LIST_ORDER)
    )


def find_visible_case(
    user: User,
    code: str,
    *,
    related: Sequence[str] = (),
    capability: Capability = Capability.READ,
) -> Case | None:
    """The case with this code that `user` reaches with `capability` (its `related` rows
    joined), or None."""
    cases = visible_cases(user, capability=capability)
    return cases.select_related(*related).filter(code=normalise_code(code)[:12]).first()


def require_visible(user: User, case: Case, *, capability: Capability = Capability.READ) -> None:
    """Refuse (PermissionDenied) unless `user` reaches `case` with `capability`: the check
    every service that acts on a case makes (casework.access)."""
    access.require(user, case, capability=capability)


def get_visible_case(user: User, code: str, *, capability: Capability = Capability.READ) -> Case:
    """The case, or 404 — the same answer whether it does not exist or is not the user's.
    A case the user may read but not act on this way (`capability`) is a 403."""
    case = find_visible_case(
        user, code, related=("client", "organisation", "client__municipality", "updated_by")
    )
    if case is None:
        raise Http404
    access.require(user, case, capability=capability)
    return case


def visible_contacts(user: User, *, cases: QuerySet[Case] | None = None) -> QuerySet[Contact]:
    """Contacts of visible cases, and the anonymous contacts of the user's organisation.
    A caller that already holds `visible_cases(user)` passes it to save its query."""
    return Contact.objects.visible_to(user, cases)


# How far back the anonymous contacts offered for linking to a case go.
ANONYMOUS_LINK_DAYS = 90


def recent_anonymous_contacts(user: User) -> QuerySet[Contact]:
    """The anonymous contacts of the user's organisation from the last ANONYMOUS_LINK_DAYS,
    newest first: those a case opened after the call may be linked to."""
    since = timezone.now() - datetime.timedelta(days=ANONYMOUS_LINK_DAYS)
    return (
        visible_contacts(user)
        .filter(case__isnull=True, organisation=user.organisation, occurred_at__gte=since)
        .select_related("staff")
        .order_by("-occurred_at")
    )


@dataclass(frozen=True)
class TimelineEntry:
    when: datetime.datetime
    kind: str  # "contact", "milestone", or "event" (entries other apps add)
    item: Any
    # An app's entry may come with its own partial, rendered with `entry` in its context
    # (otherwise `item` is shown as text), and name the content it shows for the audit
    # event of the page that shows it: ("minutes", "<agenda item id>").
    template: str = ""
    shows: tuple[str, str] | None = None
    # An app's entry about one of the case's contacts (outreach: the visit that logged it)
    # names that contact's pk and is shown inside the contact's entry, among its `details`,
    # rather than as an entry of its own.
    contact: Any = None
    details: tuple[TimelineEntry, ...] = ()


def case_timeline(case: Case, *, viewer: User | None = None) -> list[TimelineEntry]:
    """Contacts, milestones and other apps' events of a case, newest first.

    A viewer who reaches the case only by transfer read-back sees only the records their
    own organisation wrote (casework.access). Apps add events through the signal
    `signals.case_timeline_entries` (case, viewer) returning (when, text) pairs or
    TimelineEntry rows, so casework needs no import of them; each app shows `viewer` only what their
    access to the case allows (meetings: decisions and actions need Capability.MINUTES).
    """
    contacts = case.contacts.select_related("staff").order_by("-occurred_at")
    milestones = case.milestones.select_related("recorded_by")
    outsider = viewer is not None and access.cached_access(viewer, case).own_records_only
    if outsider and viewer is not None:
        contacts = contacts.filter(access.written_by_own(viewer))
        milestones = milestones.filter(
            access.written_by_own(viewer, "recorded_by__organisation_id")
        )
    tz = timezone.get_current_timezone()
    entries = [TimelineEntry(c.occurred_at, "contact", c) for c in contacts] + [
        TimelineEntry(
            datetime.datetime.combine(m.achieved_on, datetime.time.max, tzinfo=tz), "milestone", m
        )
        for m in milestones
    ]
    if not outsider:
        details: dict[Any, list[TimelineEntry]] = {}
        for _receiver, rows in signals.case_timeline_entries.send(
            sender=None, case=case, viewer=viewer
        ):
            # django-stubs types what a receiver returns as `str | None`; this hook's
            # receivers return rows (casework.signals.case_timeline_entries).
            for row in cast(Iterable[TimelineEntry | tuple[datetime.datetime, Any]], rows):
                if not isinstance(row, TimelineEntry):  # a (when, text) pair
                    row = TimelineEntry(row[0], "event", row[1])
                if row.contact is not None:
                    details.setdefault(row.contact, []).append(row)
                else:
                    entries.append(row)
        entries = [_with_details(entry, details) for entry in entries]
        # Details of a contact not on the timeline stand as entries of their own.
        entries += [row for rows in details.values() for row in rows]
    return sorted(entries, key=lambda entry: entry.when, reverse=True)


def _with_details(entry: TimelineEntry, details: dict[Any, list[TimelineEntry]]) -> TimelineEntry:
    """A contact's entry with the other apps' details about it (taken out of `details`)."""
    if entry.kind != "contact" or entry.item.pk not in details:
        return entry
    return replace(entry, details=tuple(details.pop(entry.item.pk)))


def timeline_shows(timeline: list[TimelineEntry]) -> dict[str, list[str]]:
    """What content beyond the case's own records a timeline shows, for the audit event of
    the page showing it: {"minutes": [agenda item ids], "visits": [visit ids]}; empty when
    nothing."""
    shown: dict[str, list[str]] = {}
    for entry in timeline:
        for part in (entry, *entry.details):
            if part.shows is not None:
                shown.setdefault(part.shows[0], []).append(part.shows[1])
    return shown


@dataclass(frozen=True)
class Dashboard:
    my_open_cases: list[Case]
    follow_ups_due: list[Contact]
    recent_contacts: list[Contact]


def dashboard_queries(
    user: User, *, days_ahead: int = 7, limit: int = 15
) -> tuple[QuerySet[Case], QuerySet[Contact], QuerySet[Contact]]:
    """The dashboard's three reads, unevaluated (their plans are tested on PostgreSQL)."""
    today = timezone.localdate()
    cases = visible_cases(user)
    open_cases = (
        cases.filter(lead_workers=user)
        .exclude(status=Case.Status.CLOSED)
        .order_by(*CASE_LIST_ORDER)[:limit]
    )
    follow_ups = (
        visible_contacts(user, cases=cases)
        .filter(
            staff=user,
            follow_up_done=False,
            follow_up_due__lte=today + datetime.timedelta(days=days_ahead),
        )
        .select_related("case")
        .order_by("follow_up_due")[:limit]
    )
    recent = visible_contacts(user, cases=cases).filter(staff=user).select_related("case")[:limit]
    return open_cases, follow_ups, recent


def dashboard(user: User, *, days_ahead: int = 7, limit: int = 15) -> Dashboard:
    open_cases, follow_ups, recent = dashboard_queries(user, days_ahead=days_ahead, limit=limit)
    return Dashboard(list(open_cases), list(follow_ups), list(recent))


@dataclass(frozen=True)
class DuplicateCheck:
    same_organisation: list[Case]
    other_organisations: list[str]  # names only, and only for supervisors


def find_duplicates(
    user: User,
    *,
    name_kana: str = "",
    birth_date: datetime.date | None = None,
    phone: str = "",
    other_organisations: bool = True,
) -> DuplicateCheck:
    """Possible existing records of the same person, through the blind index only. With
    `other_organisations` (supervisors only) also the names of other organisations that
    may know the person: a disclosure, so it is audited."""
    probe = Client(name_kana=name_kana or None, birth_date=birth_date, phone=phone or None)
    indexes = Q()
    kana_birth = Client._meta.get_field("kana_birth_index").compute(probe)
    phone_index = Client._meta.get_field("phone_index").compute(probe)
    if kana_birth:
        indexes |= Q(kana_birth_index=kana_birth)
        # The search's folding too (long vowels, small kana): ヨーコ and ヨウコ born the
        # same day are the same person to a counsellor, so to the check as well.
        kana = Client._meta.get_field("kana_index").compute(probe)
        born = Client._meta.get_field("birth_index").compute(probe)
        if kana and born:
            indexes |= Q(kana_index=kana, birth_index=born)
    if phone_index:
        indexes |= Q(phone_index=phone_index)
    if not indexes:
        return DuplicateCheck([], [])
    # Across organisations by design: only the blind index is compared, other organisations
    # are named to supervisors only, and that disclosure is audited below.
    matches = Client.objects.unscoped().filter(indexes)
    same = list(
        visible_cases(user)
        .filter(client__in=matches)
        .select_related("client")
        .order_by("-opened_on")
    )
    others: list[str] = []
    if other_organisations and user.has_perm("casework.supervise_case"):
        others = sorted(
            set(
                matches.exclude(organisation=user.organisation_id).values_list(
                    "organisation__name", flat=True
                )
            )
        )
        if others:
            # Telling a supervisor that another organisation knows the person discloses
            # something about the person: audited, with the count only.
            record(
                Action.VIEW,
                object_type="casework.Client",
                object_ref="duplicate_check",
                detail={"duplicates_elsewhere": len(others)},
                actor=user,
            )
    return DuplicateCheck(same, others)


def break_glass_queue(user: User) -> QuerySet[BreakGlass]:
    """Emergency accesses that started and that a supervisor has not reviewed: to the
    cases of their organisation, or by their organisation's staff."""
    if not user.has_perm("casework.supervise_case") or user.organisation_id is None:
        return BreakGlass.objects.none()
    own = user.organisation_id
    return (
        BreakGlass.objects.filter(
            reviewed_at__isnull=True, approved_at__isnull=False, case__isnull=False
        )
        .filter(Q(case__organisation_id=own) | Q(user__organisation_id=own))
        .select_related("user__organisation", "case__organisation")
    )


def break_glass_requests(user: User) -> QuerySet[BreakGlass]:
    """Requests from other organisations' staff for this supervisor's cases, waiting."""
    if not user.has_perm("casework.supervise_case") or user.organisation_id is None:
        return BreakGlass.objects.none()
    return (
        BreakGlass.objects.pending()
        .filter(case__organisation_id=user.organisation_id)
        .select_related("user__organisation", "case__organisation")
    )


def my_break_glass(user: User, *, limit: int = 20) -> QuerySet[BreakGlass]:
    """The user's own recent requests, as the break-glass page lists them."""
    return BreakGlass.objects.filter(user_id=user.pk).select_related("case")[:limit]
