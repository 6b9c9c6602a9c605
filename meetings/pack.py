"""The meeting pack: the agenda's cases, the cases worth discussing (scored and ranked by
the database), each case's history since its last review, and the printable pack.

A fixed number of queries whatever the number of cases: the suggestions are scored and
ranked by the database (one query, its total counted by a window), and the per-case
history (contacts, visits and milestones since the last review; for the print, earlier
decisions and open actions) is one query each for all the pack's cases together
(tests/meetings/test_pack.py counts them).

Which cases: the agenda's cases among those the viewer may read the minutes of
(Capability.MINUTES), suggestions among those they may act on (Capability.WRITE), both
from `Case.objects.visible_to`; the rows read for those cases afterwards (earlier items,
actions, contacts, milestones) are read across scope for them only (`unscoped()`).
"""

from __future__ import annotations

import datetime
import operator
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from functools import reduce
from typing import TYPE_CHECKING, TypeAlias, TypedDict

from django.db.models import (
    BooleanField,
    Count,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
    Window,
)
from django.db.models import Case as Choose
from django.db.models.functions import Coalesce
from django.db.models.lookups import LessThan
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from audit.models import Action
from audit.services import record
from casework.access import Capability
from casework.models import Case, Contact, Milestone, last_contact_key, without_contact_since
from casework.periods import age_band

from .models import ActionItem, AgendaItem, Meeting
from .selectors import _referral_waiting_since, referral_items

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise, WithAnnotations

DEFAULT_NO_CONTACT_DAYS = 60
# Suggested cases a pack lists besides those already on the agenda: about what a monthly
# meeting can discuss (two hours, ten minutes a case). The others are counted, not listed.
PACK_SUGGESTIONS = 12
# A referral sent this many days before the meeting and still neither accepted nor
# declined is a reason to discuss the case.
REFERRAL_WAIT_DAYS = 14
# Earlier decisions printed per case, newest first (the rest are counted).
PRINT_EARLIER_DECISIONS = 3

# The client's identity columns, never read for a pack (not even as ciphertext).
_IDENTITY = (
    "name",
    "name_kana",
    "birth_date",
    "phone",
    "address",
    "notes",
    "kana_birth_index",
    "phone_index",
    "kana_index",
    "family_kana_index",
    "birth_index",
)

# Why a case is suggested, with the weight each reason adds to its score, highest first.
# A case's score is the sum of the weights of its reasons (`_suggest`):
#
#   reason            weight  when
#   overdue action        50  an action of an earlier host meeting is past due on the
#                             meeting's day and not done
#   review due            40  the latest earlier item's next review date has come
#   no contact            30  no contact for `no_contact_days` before the meeting, on a
#                             case opened at least that long before
#   referral waiting      20  a referral the host sent REFERRAL_WAIT_DAYS or more before
#                             the meeting is neither accepted nor declined
#   status changed        15  status changed after the previous meeting's day, on a case
#                             opened by then
#   new case              10  opened after the previous meeting's day
#   MDT supported          5  the case is supported by the MDT
WEIGHTS = {
    "overdue_action": 50,  # an action from an earlier meeting is past its due date
    "review_due": 40,  # the review date an earlier meeting set has come
    "no_contact": 30,  # no contact for N days (never contacted counts as long ago)
    "referral_waiting": 20,  # a referral sent REFERRAL_WAIT_DAYS ago still unanswered
    "status_changed": 15,  # status changed since the previous meeting (not a new case)
    "new_case": 10,  # opened since the previous meeting
    "mdt_supported": 5,  # supported by the MDT (a standing item, lowest)
}


@dataclass
class PackCase:
    case: Case
    reasons: list[str] = field(default_factory=list)
    score: int = 0
    item: AgendaItem | None = None
    last_review: datetime.datetime | None = None
    contacts: list[Contact] = field(default_factory=list)
    milestones: list[Milestone] = field(default_factory=list)


@dataclass
class Pack:
    """What the preparer sees: the agenda's cases (in agenda order), then the suggested
    cases ranked by score (at most PACK_SUGGESTIONS; `more` were not listed), what was left
    out and why, and the previous meeting's open actions."""

    meeting: Meeting
    previous: Meeting | None
    cases: list[PackCase]
    left_out: list[tuple[Case, str]]
    open_actions: list[ActionItem]
    more: int = 0  # suggestions beyond the cap, not listed
    hidden_agenda: int = 0  # agenda items whose case the viewer may not read
    # Items on referred cases the viewer reaches by the referral path: by code only.
    referral_items: list[AgendaItem] = field(default_factory=list)


def previous_meeting(meeting: Meeting) -> Meeting | None:
    """The host's meeting of the same kind before `meeting` (reached through a scope)."""
    return (
        Meeting.objects.unscoped()
        .filter(host_id=meeting.host_id, kind=meeting.kind, held_at__lt=meeting.held_at)
        .exclude(pk=meeting.pk)
        .order_by("-held_at")
        .first()
    )


def _weight(key: str, *, when: Q | LessThan) -> Choose:
    return Choose(
        When(when, then=Value(WEIGHTS[key])), default=Value(0), output_field=IntegerField()
    )


def _profiles(cases: QuerySet[Case]) -> QuerySet[Case]:
    """Cases with what a pack's profile shows: the client's non-identifying attributes
    (the identity columns are not even read) and the lead workers (`lead_workers`, read
    from the prefetch)."""
    workers = User.objects.only("username", "display_name", "profession").order_by("username")
    return (
        cases.select_related("client")
        .defer(*(f"client__{name}" for name in _IDENTITY))
        .prefetch_related(Prefetch("lead_workers", queryset=workers))
    )


class _Scores(TypedDict):
    """What `_scored` adds to each case (the weights `w_<reason>` are read by name)."""

    next_review: datetime.date | None
    last_review: datetime.datetime | None
    overdue_actions: int
    referral_sent_at: datetime.datetime | None
    score: int


ScoredCase: TypeAlias = "WithAnnotations[Case, _Scores]"


def _scored(
    cases: QuerySet[Case], *, meeting: Meeting, previous: Meeting | None, no_contact_days: int
) -> QuerySet[ScoredCase]:
    """`cases` with each reason's weight (`w_<reason>`), `score` (their sum), and the
    figures the reasons quote, all computed by the database."""
    day = timezone.localtime(meeting.held_at).date()
    # Subqueries on each scoped case (OuterRef): its items and actions at the host's
    # earlier meetings, read for that case only.
    earlier = (
        AgendaItem.objects.unscoped()
        .filter(
            case=OuterRef("pk"),
            meeting__host_id=meeting.host_id,
            meeting__held_at__lt=meeting.held_at,
        )
        .order_by("-meeting__held_at")
    )
    overdue = (
        ActionItem.objects.unscoped()
        .filter(
            case=OuterRef("pk"),
            agenda_item__meeting__host_id=meeting.host_id,
            done_at__isnull=True,
            due_on__lt=day,
        )
        .order_by()
        .values("case")
        .annotate(n=Count("pk"))
        .values("n")
    )
    figures = cases.annotate(
        next_review=Subquery(earlier.values("next_review_on")[:1]),
        last_review=Subquery(earlier.values("meeting__held_at")[:1]),
        overdue_actions=Coalesce(Subquery(overdue), 0),
        referral_sent_at=_referral_waiting_since(meeting.host_id),
    )
    cutoff = meeting.held_at - datetime.timedelta(days=no_contact_days)
    referral_cutoff = meeting.held_at - datetime.timedelta(days=REFERRAL_WAIT_DAYS)
    never = Q(pk__in=[])
    since = timezone.localtime(previous.held_at).date() if previous is not None else None
    weights = {
        "overdue_action": _weight("overdue_action", when=Q(overdue_actions__gt=0)),
        "review_due": _weight("review_due", when=Q(next_review__lte=day)),
        # A case opened within the window has not gone without contact that long.
        "no_contact": _weight(
            "no_contact",
            when=without_contact_since(cutoff),
        ),
        "referral_waiting": _weight(
            "referral_waiting", when=Q(referral_sent_at__lt=referral_cutoff)
        ),
        "status_changed": _weight(
            "status_changed",
            when=Q(status_changed_on__gt=since, opened_on__lte=since) if since else never,
        ),
        "new_case": _weight("new_case", when=Q(opened_on__gt=since) if since else never),
        "mdt_supported": _weight("mdt_supported", when=Q(mdt_supported=True)),
    }
    weighted = figures.annotate(**{f"w_{key}": weight for key, weight in weights.items()})
    return weighted.annotate(score=reduce(operator.add, (F(f"w_{key}") for key in WEIGHTS)))


def _reasons(case: ScoredCase, *, meeting: Meeting, no_contact_days: int) -> list[str]:
    """The reasons of a scored case, highest weight first, with the figures they quote."""
    held = timezone.localtime(meeting.held_at)
    texts = {
        "overdue_action": lambda: _("期限切れの対応事項 %(n)s件") % {"n": case.overdue_actions},
        "review_due": lambda: _("見直し日が到来"),
        "no_contact": lambda: _("%(days)s日以上相談なし") % {"days": no_contact_days},
        "referral_waiting": lambda: (
            _("紹介の返答待ち（%(days)s日）")
            % {"days": (held.date() - timezone.localtime(case.referral_sent_at).date()).days}
        ),
        "status_changed": lambda: (
            _("前回会議以降に状態変更（%(status)s）") % {"status": case.get_status_display()}
        ),
        "new_case": lambda: _("前回会議以降の新規ケース"),
        "mdt_supported": lambda: _("多職種連携チーム支援"),
    }
    return [texts[key]() for key in WEIGHTS if getattr(case, f"w_{key}")]


def build_pack(
    user: User,
    meeting: Meeting,
    *,
    no_contact_days: int = DEFAULT_NO_CONTACT_DAYS,
    suggest: bool = True,
) -> Pack:
    """The agenda's cases, then the cases worth discussing, ranked, and each case's history
    since its last review.

    Agenda cases are those the viewer may read the minutes of (Capability.MINUTES), in
    agenda order; the others are only counted (`hidden_agenda`). Suggestions (unless
    `suggest` is false) are the host's open cases the viewer may put on an agenda
    (Capability.WRITE) that are not on it yet and have at least one reason (`WEIGHTS`,
    `_suggest`). The previous meeting's open actions follow, on cases whose minutes the
    viewer may read.
    """
    previous = previous_meeting(meeting)
    agenda = {item.case_id: item for item in meeting.items.select_related("presenter")}
    pack = Pack(
        meeting=meeting,
        previous=previous,
        cases=_agenda_entries(
            user, meeting, agenda=agenda, previous=previous, no_contact_days=no_contact_days
        ),
        left_out=[],
        open_actions=[],
        referral_items=referral_items(user, meeting),
    )
    # Not hidden: the referred cases the viewer reaches by the referral path, listed by code.
    listed = {entry.case.pk for entry in pack.cases} | {i.case_id for i in pack.referral_items}
    pack.hidden_agenda = len(set(agenda) - listed)
    if suggest:
        _suggest(user, pack, agenda=agenda, no_contact_days=no_contact_days)
    _attach_history({entry.case.pk: entry for entry in pack.cases})
    if previous is not None:
        pack.open_actions = list(
            ActionItem.objects.visible_to(user)
            .filter(agenda_item__meeting=previous, done_at__isnull=True)
            .select_related("case", "assignee")
        )
    return pack


def _agenda_entries(
    user: User,
    meeting: Meeting,
    *,
    agenda: dict[uuid.UUID, AgendaItem],
    previous: Meeting | None,
    no_contact_days: int,
) -> list[PackCase]:
    """The agenda's cases the viewer may read the minutes of, scored, in agenda order."""
    readable = Case.objects.visible_to(user, Capability.MINUTES).filter(pk__in=list(agenda))
    scored = _scored(
        _profiles(readable), meeting=meeting, previous=previous, no_contact_days=no_contact_days
    )
    entries = [
        PackCase(
            case=case,
            item=agenda[case.pk],
            last_review=case.last_review,
            score=case.score,
            reasons=_reasons(case, meeting=meeting, no_contact_days=no_contact_days),
        )
        for case in scored
    ]
    entries.sort(key=lambda entry: (agenda[entry.case.pk].created_at, agenda[entry.case.pk].pk))
    return entries


def _suggest(
    user: User, pack: Pack, *, agenda: dict[uuid.UUID, AgendaItem], no_contact_days: int
) -> None:
    """The suggestions, ranked: a case's score is the sum of its reasons' weights
    (WEIGHTS); ordered by score, highest first, then the longest without contact first
    (never contacted before any contact), then by code, and cut at PACK_SUGGESTIONS;
    `pack.more` counts those not listed. A suggestion that cannot be put on this agenda
    (restricted; for a meeting needing consent, no consent recorded) is left out, with the
    reason, instead."""
    meeting = pack.meeting
    candidates = (
        _scored(
            Case.objects.visible_to(user, Capability.WRITE)
            .filter(organisation_id=meeting.host_id)
            .exclude(status=Case.Status.CLOSED)
            .exclude(pk__in=list(agenda)),
            meeting=meeting,
            previous=pack.previous,
            no_contact_days=no_contact_days,
        )
        .filter(score__gt=0)
        .order_by("-score", last_contact_key(), "code")
    )
    eligible = Q(restricted=False)
    if meeting.legal_basis == Meeting.LegalBasis.CONSENT_REQUIRED:
        eligible &= Q(sharing_consent_on__isnull=False)
    # The total comes with the rows (a window over the whole filtered set, before the cut):
    # one evaluation of the scores instead of a second query to count.
    shown = list(candidates.filter(eligible).annotate(total=Window(Count("pk")))[:PACK_SUGGESTIONS])
    pack.more = shown[0].total - len(shown) if shown else 0
    pack.cases += [
        PackCase(
            case=case,
            last_review=case.last_review,
            score=case.score,
            reasons=_reasons(case, meeting=meeting, no_contact_days=no_contact_days),
        )
        for case in shown
    ]
    for case in candidates.exclude(eligible)[:PACK_SUGGESTIONS]:
        why = (
            _("閲覧制限があるため議題にできません（先に制限を解除）")
            if case.restricted
            else _("情報共有への同意が記録されていません")
        )
        pack.left_out.append((case, why))


def _attach_history(by_id: dict[uuid.UUID, PackCase]) -> None:
    """Contacts (visits included: a done visit is a contact) and milestones since each
    case's last review, in one query each, for the pack's cases (reached through a scope)."""
    if not by_id:
        return
    contacts = (
        Contact.objects.unscoped()
        .filter(case_id__in=by_id)
        .order_by("-occurred_at")
        .only("id", "data_key_id", "case_id", "occurred_at", "channel", "consulter", "summary")
    )
    milestones = Milestone.objects.unscoped().filter(case_id__in=by_id).order_by("-achieved_on")
    grouped_contacts: defaultdict[uuid.UUID, list[Contact]] = defaultdict(list)
    grouped_milestones: defaultdict[uuid.UUID, list[Milestone]] = defaultdict(list)
    for contact in contacts:
        if contact.case_id is None:  # never: filtered by case above (the check is for mypy)
            continue
        since = by_id[contact.case_id].last_review
        if since is None or contact.occurred_at > since:
            grouped_contacts[contact.case_id].append(contact)
    for milestone in milestones:
        since = by_id[milestone.case_id].last_review
        if since is None or milestone.achieved_on > timezone.localtime(since).date():
            grouped_milestones[milestone.case_id].append(milestone)
    for case_id, entry in by_id.items():
        entry.contacts = grouped_contacts[case_id][:20]
        entry.milestones = grouped_milestones[case_id]


# --- the printable pack ---------------------------------------------------------------------


@dataclass
class PrintCase:
    """One agenda case's page: its profile by pseudonymous code, earlier decisions and
    open actions from earlier meetings of the host, history since the last review."""

    entry: PackCase
    number: int
    age_band: StrOrPromise
    household: list[str]
    lead_workers: list[User]
    earlier: list[AgendaItem]
    earlier_more: int
    open_actions: list[ActionItem]


@dataclass
class PrintPack:
    pack: Pack
    cases: list[PrintCase]
    attendees: list[User]
    external: list[tuple[str, str, int]]  # (organisation type, professions, count)
    external_total: int
    minutes_items: list[str]  # the agenda items whose minutes the print shows (for the audit)


def print_pack(
    user: User, meeting: Meeting, *, no_contact_days: int = DEFAULT_NO_CONTACT_DAYS
) -> PrintPack:
    """The printable pack: the agenda's cases the viewer may read the minutes of
    (`build_pack`, no suggestions), each with its profile, its earlier decisions and open
    actions (decrypted here, for the print only), and the meeting's attendance.

    A fixed number of queries whatever the number of cases; the client's identity columns
    are not even read. Record the print with `record_pack_printed`.
    """
    pack = build_pack(user, meeting, no_contact_days=no_contact_days, suggest=False)
    ids = [entry.case.pk for entry in pack.cases]
    earlier_items, open_actions = _earlier_at_host(meeting, case_ids=ids)
    day = timezone.localtime(meeting.held_at).date()
    cases = [
        _print_case(
            entry,
            number=number,
            day=day,
            earlier=earlier_items[entry.case.pk],
            actions=open_actions[entry.case.pk],
        )
        for number, entry in enumerate(pack.cases, start=1)
    ]
    # Without suggestions every entry is an agenda item.
    shown_items = {str(e.item.pk) for e in pack.cases if e.item is not None}
    for case in cases:
        shown_items |= {str(item.pk) for item in case.earlier}
        shown_items |= {str(a.agenda_item_id) for a in case.open_actions}
    # The carried-over actions (their text is minutes content; build_pack keeps only those
    # on cases whose minutes the viewer may read).
    shown_items |= {str(action.agenda_item_id) for action in pack.open_actions}
    professions: dict[str, set[str]] = {}  # by organisation type, in order of appearance
    people: dict[str, int] = {}
    for row in meeting.external_attendance.all():
        kind = row.get_organisation_type_display()
        professions.setdefault(kind, set())
        if row.profession:
            professions[kind].add(row.profession)
        people[kind] = people.get(kind, 0) + row.count
    return PrintPack(
        pack=pack,
        cases=cases,
        attendees=list(meeting.attendees.order_by("username")),
        external=[(kind, "、".join(sorted(professions[kind])), n) for kind, n in people.items()],
        external_total=sum(people.values()),
        minutes_items=sorted(shown_items),
    )


def _earlier_at_host(
    meeting: Meeting, *, case_ids: list[uuid.UUID]
) -> tuple[defaultdict[uuid.UUID, list[AgendaItem]], defaultdict[uuid.UUID, list[ActionItem]]]:
    """For the printed cases `case_ids` (reached through a scope): their decisions at the
    host's earlier meetings, newest first, and their open actions from them, by case id;
    one query each."""
    day = timezone.localtime(meeting.held_at).date()
    earlier_items: defaultdict[uuid.UUID, list[AgendaItem]] = defaultdict(list)
    for item in (
        AgendaItem.objects.unscoped()
        .filter(
            case_id__in=case_ids,
            meeting__host_id=meeting.host_id,
            meeting__held_at__lt=meeting.held_at,
            decisions__isnull=False,
        )
        .select_related("meeting")
        .defer("question", "discussion")
        .order_by("-meeting__held_at")
    ):
        earlier_items[item.case_id].append(item)
    open_actions: defaultdict[uuid.UUID, list[ActionItem]] = defaultdict(list)
    for action in (
        ActionItem.objects.unscoped()
        .filter(
            case_id__in=case_ids,
            done_at__isnull=True,
            agenda_item__meeting__host_id=meeting.host_id,
            agenda_item__meeting__held_at__lt=meeting.held_at,
        )
        .select_related("assignee", "agenda_item__meeting")
        .annotate(overdue=ExpressionWrapper(Q(due_on__lt=day), output_field=BooleanField()))
        .order_by("due_on")
    ):
        open_actions[action.case_id].append(action)
    return earlier_items, open_actions


def _print_case(
    entry: PackCase,
    *,
    number: int,
    day: datetime.date,
    earlier: list[AgendaItem],
    actions: list[ActionItem],
) -> PrintCase:
    """One case's printed page: its profile by pseudonymous code (age band from the birth
    year, household flags), its newest earlier decisions and its open actions."""
    client = entry.case.client
    household = []
    if client is not None and client.household_8050:
        household.append(_("8050世帯"))
    if client is not None and client.lives_alone:
        household.append(_("単身世帯"))
    printed = earlier[:PRINT_EARLIER_DECISIONS]
    return PrintCase(
        entry=entry,
        number=number,
        age_band=age_band(client.birth_year if client else None, day).label,
        household=household,
        lead_workers=list(entry.case.lead_workers.all()),  # prefetched (`_profiles`)
        earlier=printed,
        earlier_more=len(earlier) - len(printed),
        open_actions=actions,
    )


def record_pack_printed(user: User, printed: PrintPack) -> None:
    """The pack was printed: one export event on the meeting naming the cases and the
    agenda items whose minutes it showed (ids and codes, never content)."""
    record(
        Action.EXPORT,
        obj=printed.pack.meeting,
        actor=user,
        detail={
            "pack_cases": [c.entry.case.code for c in printed.cases],
            "minutes": printed.minutes_items,
        },
    )
