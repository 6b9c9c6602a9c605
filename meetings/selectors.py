"""Meeting reads: the automatically prepared meeting pack, its printable form, minutes,
dashboards and counts.

The pack is a fixed number of queries whatever the number of cases: the suggestions are
scored and ranked by the database (one query, and one to count what was left out by the
cap), and the per-case history (contacts, visits and milestones since the last review;
for the print, earlier decisions and open actions) is one query each for all the pack's
cases together (tests/meetings/test_pack.py counts them).

Which meetings: `meetings_for` / `meeting_for` (views never filter by host themselves):
the host's staff who run meetings see all of its meetings and manage them; an MDT member
sees, read-only, the meetings they attend and, on them, only the agenda cases their open
grants reach; nobody sees another organisation's meetings.

Minutes follow the case (casework.access): reading an agenda item's minutes, or acting on
its actions, needs Capability.MINUTES on the item's case (the owner kinds, or an attending
MDT member's open agenda grant); writing them is also only for the meeting's attendees and
the host's supervisors (`check_minutes`). Open actions are listed only for cases the viewer
can see. At a case conference, a case in the host's referral scope is reached by the
referral path (`by_referral`): its agenda item and that item's minutes, nothing else.
"""

from __future__ import annotations

import datetime
import operator
from collections import defaultdict
from dataclasses import dataclass, field
from functools import reduce

from django.core.exceptions import PermissionDenied
from django.db.models import Case as Choose
from django.db.models import (
    Count,
    DateTimeField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce
from django.db.models.lookups import LessThan
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.selectors import holders_of
from audit.models import Action
from audit.services import record
from casework import signals
from casework.access import Capability, cached_access
from casework.models import Case, Contact, Milestone, last_contact_key
from casework.periods import age_band
from casework.selectors import TimelineEntry, find_visible_case, require_visible, visible_cases

from .models import ActionItem, AgendaItem, ExternalAttendance, Meeting

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
)

# Why a case is suggested, with the weight each reason adds to its score, highest first.
# A case's score is the sum of the weights of its reasons; see `build_pack`.
WEIGHTS = {
    "overdue_action": 50,  # an action from an earlier meeting is past its due date
    "review_due": 40,  # the review date an earlier meeting set has come
    "no_contact": 30,  # no contact for N days (never contacted counts as long ago)
    "referral_waiting": 20,  # a referral sent REFERRAL_WAIT_DAYS ago still unanswered
    "status_changed": 15,  # status changed since the previous meeting (not a new case)
    "new_case": 10,  # opened since the previous meeting
    "mdt_supported": 5,  # supported by the MDT (a standing item, lowest)
}


def may_manage(user, meeting: Meeting) -> bool:
    """Whether `user` runs `meeting`: staff of the host who hold meetings.change_meeting
    plan it, change its agenda and attendees and print its pack."""
    return user.has_perm("meetings.change_meeting") and meeting.host_id == user.organisation_id


def meetings_for(user) -> QuerySet[Meeting]:
    """The meetings `user` may open, all hosted by their own organisation: every one for
    the staff who run meetings (meetings.change_meeting), only those they attend for the
    others (an MDT member). Another organisation's meeting never, attended or not (someone
    who moved keeps no view of their old organisation's meetings)."""
    if (
        not getattr(user, "is_authenticated", False)
        or not user.is_active
        or user.organisation_id is None
        or not user.has_perm("meetings.view_meeting")
    ):
        return Meeting.objects.none()
    own = Meeting.objects.filter(host_id=user.organisation_id)
    if user.has_perm("meetings.change_meeting"):
        return own
    return own.filter(attendees=user)


def meeting_for(user, pk, *, manage: bool = False) -> Meeting:
    """The meeting `pk` among `meetings_for(user)`, else 404 (the same answer as for a
    wrong id: a meeting one does not attend is not there for them). With `manage`, 403
    for one who may see the meeting but not run it (`may_manage`)."""
    meeting = meetings_for(user).filter(pk=pk).first()
    if meeting is None:
        raise Http404
    if manage and not may_manage(user, meeting):
        raise PermissionDenied
    return meeting


def attended_agenda(user, meeting: Meeting) -> QuerySet[AgendaItem]:
    """The agenda of `meeting` as a reader who does not run it sees it: the items whose
    case `user` reaches with Capability.MINUTES (an attending MDT member: while the review
    is open); the other items are not shown at all."""
    return (
        meeting.items.filter(case__in=minutes_cases(user))
        .select_related("case")
        .order_by("created_at")
    )


def upcoming_meetings(user, since: datetime.datetime) -> QuerySet[Meeting]:
    """The meetings `user` attends, held from `since` on, soonest first."""
    return meetings_for(user).filter(attendees=user, held_at__gte=since).order_by("held_at")


def open_agenda_items(user, cases: QuerySet[Case] | None = None) -> QuerySet[AgendaItem]:
    """Items under open review at the meetings `user` attends, on cases whose minutes they
    may read (`cases`, default `minutes_cases(user)`): for an MDT member, exactly the cases
    their agenda grants open. `writable` says whether they also act on the case
    (Capability.WRITE) or only read it and its minutes until the review closes."""
    cases = minutes_cases(user) if cases is None else cases
    writable = visible_cases(user, Capability.WRITE).filter(pk=OuterRef("case_id"))
    return (
        AgendaItem.objects.filter(
            meeting__in=meetings_for(user).filter(attendees=user),
            review_closed_at__isnull=True,
            case__in=cases,
        )
        .annotate(writable=Exists(writable))
        .select_related("case", "meeting")
        .order_by("meeting__held_at", "created_at")
    )


def meeting_staff(meeting: Meeting) -> QuerySet[User]:
    """Who may attend `meeting`, present a case or own an action from it: the host's
    active staff whose role takes part in meetings (meetings.view_meeting), never a
    statistics viewer, auditor or administrator."""
    return holders_of("meetings.view_meeting", organisation_id=meeting.host_id).order_by("username")


def new_meeting_staff(user) -> QuerySet[User]:
    """`meeting_staff` of a meeting `user` is about to plan (services.plan_meeting makes
    the user's organisation its host)."""
    return meeting_staff(Meeting(host_id=user.organisation_id))


# --- the referral path: case conferences about referred cases -----------------------------

# What the referral path opens at a case conference: the agenda (add, drop) and the
# minutes of that item. Never the case's pages, history, identity, or other minutes.
REFERRAL_PATH = frozenset({Capability.WRITE, Capability.MINUTES})


def referral_scope(user) -> QuerySet[Case]:
    """The cases the user's organisation reaches through the consented referral grants it
    holds, as referrals publishes them (signal `casework.signals.referral_scope_cases`, so
    meetings imports no sibling); never a restricted case."""
    scope = Case.objects.none()
    for _receiver, cases in signals.referral_scope_cases.send(sender=None, user=user):
        scope = scope | cases
    return scope.filter(restricted=False)


def _referral_path_open(user, meeting: Meeting) -> bool:
    return (
        meeting.kind == Meeting.Kind.CASE_CONFERENCE
        and meeting.host_id == user.organisation_id
        and user.has_perm("meetings.change_meeting")
    )


def by_referral(user, meeting: Meeting, case: Case) -> bool:
    """Whether `user` reaches `case` at `meeting` by the referral path: a case conference
    hosted by the user's organisation, a user who runs its meetings, and a case in the
    organisation's referral scope (`referral_scope`)."""
    return _referral_path_open(user, meeting) and referral_scope(user).filter(pk=case.pk).exists()


def require_agenda_access(user, meeting: Meeting, case: Case, capability: Capability) -> None:
    """Refuse (PermissionDenied) unless `user` reaches `case` at `meeting` with
    `capability`: through casework.access, or, for the agenda and the item's minutes at a
    case conference, by the referral path. The check every agenda and minutes service and
    selector makes."""
    if cached_access(user, case).allows(capability):
        return
    if capability in REFERRAL_PATH and by_referral(user, meeting, case):
        return
    raise PermissionDenied


def agenda_case(user, meeting: Meeting, code: str) -> Case | None:
    """The case with this code that `user` may put on `meeting`'s agenda: one they may act
    on, or at a case conference of their organisation one in its referral scope. None
    otherwise, whatever the reason, so that a code outside both tells nothing."""
    case = find_visible_case(user, code, capability=Capability.WRITE)
    if case is None and _referral_path_open(user, meeting):
        case = referral_scope(user).filter(code=code).first()
    return case


def referral_items(user, meeting: Meeting) -> list[AgendaItem]:
    """The agenda items of `meeting` that `user` reaches by the referral path: listed by
    code on the meeting page (the pack lists only cases of the host)."""
    if not _referral_path_open(user, meeting):
        return []
    return list(meeting.items.filter(case__in=referral_scope(user)).select_related("case"))


def referral_candidates(user, meeting: Meeting) -> list[Case]:
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


def meeting_defaults(user) -> dict[str, str]:
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


def may_plan(user, item: AgendaItem) -> bool:
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
    referral_items: list = field(default_factory=list)


def previous_meeting(meeting: Meeting) -> Meeting | None:
    return (
        Meeting.objects.filter(
            host_id=meeting.host_id, kind=meeting.kind, held_at__lt=meeting.held_at
        )
        .exclude(pk=meeting.pk)
        .order_by("-held_at")
        .first()
    )


def _weight(key: str, condition) -> Choose:
    return Choose(
        When(condition, then=Value(WEIGHTS[key])), default=Value(0), output_field=IntegerField()
    )


def _referral_waiting_since(organisation_id: int):
    """The referrals app's subquery (signal `casework.signals.referral_unanswered_since`;
    meetings imports no sibling app)."""
    sent = signals.referral_unanswered_since.send(sender=None, organisation_id=organisation_id)
    for _receiver, subquery in sent:
        return Subquery(subquery)
    return Value(None, output_field=DateTimeField())


def _profiles(cases: QuerySet[Case]) -> QuerySet[Case]:
    """Cases with what a pack's profile shows: the client's non-identifying attributes
    (the identity columns are not even read) and the lead workers (`lead_worker_list`)."""
    workers = User.objects.only("username", "display_name", "profession").order_by("username")
    return (
        cases.select_related("client")
        .defer(*(f"client__{name}" for name in _IDENTITY))
        .prefetch_related(Prefetch("lead_workers", queryset=workers, to_attr="lead_worker_list"))
    )


def _scored(cases: QuerySet[Case], meeting: Meeting, previous, no_contact_days: int):
    """`cases` with each reason's weight (`w_<reason>`), `score` (their sum), and the
    figures the reasons quote, all computed by the database."""
    day = timezone.localtime(meeting.held_at).date()
    earlier = AgendaItem.objects.filter(
        case=OuterRef("pk"), meeting__host_id=meeting.host_id, meeting__held_at__lt=meeting.held_at
    ).order_by("-meeting__held_at")
    overdue = (
        ActionItem.objects.filter(
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
    cases = cases.annotate(
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
        "overdue_action": _weight("overdue_action", Q(overdue_actions__gt=0)),
        "review_due": _weight("review_due", Q(next_review__lte=day)),
        "no_contact": _weight("no_contact", LessThan(last_contact_key(), cutoff)),
        "referral_waiting": _weight("referral_waiting", Q(referral_sent_at__lt=referral_cutoff)),
        "status_changed": _weight(
            "status_changed",
            Q(status_changed_on__gt=since, opened_on__lte=since) if since else never,
        ),
        "new_case": _weight("new_case", Q(opened_on__gt=since) if since else never),
        "mdt_supported": _weight("mdt_supported", Q(mdt_supported=True)),
    }
    cases = cases.annotate(**{f"w_{key}": weight for key, weight in weights.items()})
    return cases.annotate(score=reduce(operator.add, (F(f"w_{key}") for key in WEIGHTS)))


def _reasons(case: Case, meeting: Meeting, no_contact_days: int) -> list[str]:
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
    user,
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
    (Capability.WRITE) that are not on it yet and have at least one reason:

    ====================  ======  =================================================
    reason                weight  when
    ====================  ======  =================================================
    overdue action            50  an action of an earlier host meeting is past due
                                  on the meeting's day and not done
    review due                40  the latest earlier item's next review date has come
    no contact                30  no contact for `no_contact_days` before the meeting
    referral waiting          20  a referral the host sent REFERRAL_WAIT_DAYS or more
                                  before the meeting is neither accepted nor declined
    status changed            15  status changed after the previous meeting's day, on
                                  a case opened by then
    new case                  10  opened after the previous meeting's day
    MDT supported              5  the case is supported by the MDT
    ====================  ======  =================================================

    A case's score is the sum of its reasons' weights (WEIGHTS); suggestions are ordered
    by score, highest first, then the longest without contact first (never contacted
    before any contact), then by code, and cut at PACK_SUGGESTIONS; `more` counts those
    not listed. A suggestion that cannot be put on this agenda (restricted; for a meeting
    needing consent, no consent recorded) is left out, with the reason, instead.
    """
    previous = previous_meeting(meeting)
    items = list(meeting.items.select_related("presenter"))
    agenda = {item.case_id: item for item in items}
    readable = _scored(
        _profiles(visible_cases(user, Capability.MINUTES).filter(pk__in=list(agenda))),
        meeting,
        previous,
        no_contact_days,
    )
    entries = [
        PackCase(
            case=case,
            item=agenda[case.pk],
            last_review=case.last_review,
            score=case.score,
            reasons=_reasons(case, meeting, no_contact_days),
        )
        for case in readable
    ]
    entries.sort(key=lambda entry: (entry.item.created_at, entry.item.pk))
    pack = Pack(
        meeting=meeting,
        previous=previous,
        cases=entries,
        left_out=[],
        open_actions=[],
        referral_items=referral_items(user, meeting),
    )
    # Not hidden: the referred cases the viewer reaches by the referral path, listed by code.
    listed = {entry.case.pk for entry in entries} | {i.case_id for i in pack.referral_items}
    pack.hidden_agenda = len(set(agenda) - listed)
    if suggest:
        _suggest(user, pack, agenda, no_contact_days)
    _attach_history({entry.case.pk: entry for entry in pack.cases})
    if previous is not None:
        pack.open_actions = list(
            ActionItem.objects.filter(
                agenda_item__meeting=previous,
                done_at__isnull=True,
                case__in=visible_cases(user, Capability.MINUTES),
            ).select_related("case", "assignee")
        )
    return pack


def _suggest(user, pack: Pack, agenda: dict, no_contact_days: int) -> None:
    meeting = pack.meeting
    candidates = (
        _scored(
            visible_cases(user, Capability.WRITE)
            .filter(organisation_id=meeting.host_id)
            .exclude(status=Case.Status.CLOSED)
            .exclude(pk__in=list(agenda)),
            meeting,
            pack.previous,
            no_contact_days,
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
            reasons=_reasons(case, meeting, no_contact_days),
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


def _attach_history(by_id: dict) -> None:
    """Contacts (visits included: a done visit is a contact) and milestones since each
    case's last review, in one query each."""
    if not by_id:
        return
    contacts = (
        Contact.objects.filter(case_id__in=by_id)
        .order_by("-occurred_at")
        .only("id", "data_key_id", "case_id", "occurred_at", "channel", "consulter", "summary")
    )
    milestones = Milestone.objects.filter(case_id__in=by_id).order_by("-achieved_on")
    grouped_contacts, grouped_milestones = defaultdict(list), defaultdict(list)
    for contact in contacts:
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
    age_band: str
    household: list[str]
    lead_workers: list
    earlier: list[AgendaItem]
    earlier_more: int
    open_actions: list[ActionItem]


@dataclass
class PrintPack:
    pack: Pack
    cases: list[PrintCase]
    attendees: list
    external: list[tuple[str, str, int]]  # (organisation type, professions, count)
    external_total: int
    minutes_items: list  # the agenda items whose minutes the print shows (for the audit)


def print_pack(user, meeting: Meeting, *, no_contact_days: int = DEFAULT_NO_CONTACT_DAYS):
    """The printable pack: the agenda's cases the viewer may read the minutes of
    (`build_pack`, no suggestions), each with its profile, its earlier decisions and open
    actions (decrypted here, for the print only), and the meeting's attendance.

    A fixed number of queries whatever the number of cases; the client's identity columns
    are not even read. Record the print with `record_pack_printed`.
    """
    pack = build_pack(user, meeting, no_contact_days=no_contact_days, suggest=False)
    ids = [entry.case.pk for entry in pack.cases]
    day = timezone.localtime(meeting.held_at).date()
    earlier_items = defaultdict(list)
    for item in (
        AgendaItem.objects.filter(
            case_id__in=ids,
            meeting__host_id=meeting.host_id,
            meeting__held_at__lt=meeting.held_at,
            decisions__isnull=False,
        )
        .select_related("meeting")
        .defer("question", "discussion")
        .order_by("-meeting__held_at")
    ):
        earlier_items[item.case_id].append(item)
    open_actions = defaultdict(list)
    for action in (
        ActionItem.objects.filter(
            case_id__in=ids,
            done_at__isnull=True,
            agenda_item__meeting__host_id=meeting.host_id,
            agenda_item__meeting__held_at__lt=meeting.held_at,
        )
        .select_related("assignee", "agenda_item__meeting")
        .order_by("due_on")
    ):
        action.overdue = action.due_on < day
        open_actions[action.case_id].append(action)
    cases, shown_items = [], []
    for number, entry in enumerate(pack.cases, start=1):
        client = entry.case.client
        household = []
        if client is not None and client.household_8050:
            household.append(_("8050世帯"))
        if client is not None and client.lives_alone:
            household.append(_("単身世帯"))
        earlier = earlier_items[entry.case.pk]
        printed = earlier[:PRINT_EARLIER_DECISIONS]
        shown_items += [item.pk for item in printed]
        shown_items += [a.agenda_item_id for a in open_actions[entry.case.pk]]
        cases.append(
            PrintCase(
                entry=entry,
                number=number,
                age_band=age_band(client.birth_year if client else None, day).label,
                household=household,
                lead_workers=entry.case.lead_worker_list,
                earlier=printed,
                earlier_more=len(earlier) - len(printed),
                open_actions=open_actions[entry.case.pk],
            )
        )
    # The carried-over actions (their text is minutes content; build_pack keeps only those
    # on cases whose minutes the viewer may read).
    shown_items += [action.agenda_item_id for action in pack.open_actions]
    external: dict[str, list] = {}
    for row in meeting.external_attendance.all():
        kind = external.setdefault(row.get_organisation_type_display(), [set(), 0])
        if row.profession:
            kind[0].add(row.profession)
        kind[1] += row.count
    return PrintPack(
        pack=pack,
        cases=cases,
        attendees=list(meeting.attendees.order_by("username")),
        external=[(kind, "、".join(sorted(jobs)), n) for kind, (jobs, n) in external.items()],
        external_total=sum(n for _jobs, n in external.values()),
        minutes_items=sorted(
            {str(pk) for pk in shown_items} | {str(e.item.pk) for e in pack.cases}
        ),
    )


def record_pack_printed(user, printed: PrintPack) -> None:
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


# --- minutes and actions ------------------------------------------------------------------


def may_write_minutes(user, meeting: Meeting) -> bool:
    """Minutes are written by the meeting's attendees and the host's supervisors (who must
    also reach the case with Capability.MINUTES: `check_minutes`)."""
    if not user.has_perm("meetings.change_agendaitem") or meeting.host_id != user.organisation_id:
        return False
    return user.has_perm("casework.supervise_case") or meeting.attendees.filter(pk=user.pk).exists()


def check_minutes(user, item: AgendaItem, *, write: bool = False) -> None:
    """Refuse (PermissionDenied) unless `user` may read, or with `write` write, the minutes
    of `item`: the check every reader and writer of minutes makes (services included)."""
    if item.meeting.host_id != user.organisation_id:
        raise PermissionDenied
    require_agenda_access(user, item.meeting, item.case, Capability.MINUTES)
    if write and not may_write_minutes(user, item.meeting):
        raise PermissionDenied


def agenda_item_for(user, pk, capability: Capability) -> AgendaItem:
    """The agenda item `pk` of a meeting of the user's organisation, if the user reaches its
    case with `capability` (or, for the agenda and minutes, by the referral path).

    404 when there is no such item or the user cannot see its case at all (the same answer
    as for a wrong id); 403 when they see the case but not with `capability`.
    """
    item = (
        AgendaItem.objects.select_related("meeting", "case")
        .filter(pk=pk, meeting__host_id=user.organisation_id)
        .first()
    )
    if item is None:
        raise Http404
    if not cached_access(user, item.case):
        # A case conference's item on a referred case: its agenda and minutes only.
        if capability in REFERRAL_PATH and by_referral(user, item.meeting, item.case):
            return item
        raise Http404
    require_visible(user, item.case, capability)
    return item


def minutes_item_for(user, pk, *, write: bool = False) -> AgendaItem:
    """The agenda item `pk` whose minutes `user` may read (`write`: and write); 404 or 403
    as `agenda_item_for`, and 403 for a writer who neither attends nor supervises."""
    item = agenda_item_for(user, pk, Capability.MINUTES)
    check_minutes(user, item, write=write)
    return item


def record_minutes_read(user, item: AgendaItem) -> None:
    """A page showed the minutes of `item` (discussion, decisions, action texts): one audit
    event on its case, naming the item, never its content."""
    record(
        Action.VIEW,
        obj=item.case,
        actor=user,
        detail={"minutes": [str(item.pk)], "case": item.case.code, "meeting": item.meeting_id},
    )


def record_actions_read(user, actions: list[ActionItem]) -> None:
    """A page showed the text of `actions` (the pack's carried-over actions): one audit
    event per case, naming the agenda items, never the text. Per case, as the access review
    reads case views (casework.access_review): two queries per case with carried-over
    actions, bounded by the previous meeting's agenda."""
    by_case: dict = defaultdict(set)
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


def action_for(user, pk) -> ActionItem:
    """An action `user` may complete: their own, or for a supervisor any of the host's.

    404 unless it is one of those and the user can see its case; 403 when they see the case
    but have no minutes access to it.
    """
    actions = ActionItem.objects.select_related("case", "agenda_item__meeting").filter(
        agenda_item__meeting__host_id=user.organisation_id
    )
    if not user.has_perm("casework.supervise_case"):
        actions = actions.filter(assignee_id=user.pk)  # others' actions are not there for you
    action = actions.filter(pk=pk).first()
    if action is None or not cached_access(user, action.case):
        raise Http404
    require_visible(user, action.case, Capability.MINUTES)
    return action


def minutes_cases(user) -> QuerySet[Case]:
    """The cases whose minutes and actions `user` may read (Capability.MINUTES)."""
    return visible_cases(user, Capability.MINUTES)


def my_open_actions(user, cases: QuerySet[Case] | None = None) -> QuerySet[ActionItem]:
    """The user's open actions, only on cases whose minutes they may read: an assignee
    who can no longer see the case no longer sees its action."""
    cases = minutes_cases(user) if cases is None else cases
    return ActionItem.objects.filter(
        assignee_id=user.pk, done_at__isnull=True, case__in=cases
    ).select_related("case")


def overdue_actions(
    user, today: datetime.date, cases: QuerySet[Case] | None = None
) -> QuerySet[ActionItem]:
    """Overdue actions of the meetings of the user's organisation, on cases whose minutes
    the user may read."""
    cases = minutes_cases(user) if cases is None else cases
    return ActionItem.objects.filter(
        agenda_item__meeting__host_id=user.organisation_id,
        done_at__isnull=True,
        due_on__lt=today,
        case__in=cases,
    ).select_related("case", "assignee")


# --- counts ---------------------------------------------------------------------------------


def counts(*, start: datetime.date, end: datetime.date, host_ids: list[int] | None = None) -> dict:
    """Held meetings in [start, end]: by kind; MDT cases 実 (distinct) and 延べ (items);
    municipalities holding a case conference; network attendance by organisation type."""
    held = Meeting.objects.filter(status=Meeting.Status.HELD, held_at__date__range=(start, end))
    if host_ids is not None:
        held = held.filter(host_id__in=host_ids)
    items = AgendaItem.objects.filter(meeting__in=held, meeting__kind=Meeting.Kind.MDT_MONTHLY)
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


def case_meetings(case: Case, viewer) -> list[CaseMeeting]:
    """Every meeting that put `case` on its agenda, oldest first, whichever organisation
    hosted it: the decisions and actions are part of the case's record and follow the case
    (casework.access), shown only to a viewer who reaches it with Capability.MINUTES (owner
    kinds, or an attending MDT member's open agenda grant); anyone else who reads the case
    (break-glass) sees that a meeting discussed it, and when. Two queries at most.
    """
    minutes = viewer is not None and cached_access(viewer, case).allows(Capability.MINUTES)
    items = AgendaItem.objects.filter(case=case).select_related("meeting")
    if minutes:
        items = items.prefetch_related(
            Prefetch(
                "actions",
                queryset=ActionItem.objects.select_related("assignee").order_by("due_on"),
                to_attr="action_list",
            )
        )
    opens_minutes = minutes and viewer.has_perm("meetings.change_agendaitem")
    rows = []
    for item in items.order_by("meeting__held_at"):
        url = ""
        if opens_minutes and item.meeting.host_id == viewer.organisation_id:
            url = reverse("meetings:minutes", kwargs={"pk": item.pk})
        rows.append(
            CaseMeeting(
                item=item,
                minutes=minutes,
                actions=item.action_list if minutes else [],
                minutes_url=url,
            )
        )
    return rows


def case_timeline_entries(case: Case, viewer) -> list[TimelineEntry]:
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
        for row in case_meetings(case, viewer)
    ]
