"""Meeting services: agenda, MDT grants, minutes and actions — permission, write, audit.

MDT members attending a meeting hold `casework.view_case` on each case on its agenda
while that item's review is open (guardian, direct-FK table); closing the review, dropping
the item or leaving the meeting takes it back unless another open item still needs it.
Closing, merging away or transferring the case ends its open reviews (`end_reviews`), so
no grant outlives the case's work here; closed and restricted cases cannot be put on an
agenda.

Minutes and actions are checked here as well as in the selectors the views use
(`selectors.check_minutes`): Capability.MINUTES on the case, and for writing, an attendee
of the meeting or a supervisor of the host.

A case conference may also discuss a case in the host's referral scope
(`selectors.require_agenda_access`); it gives no grant, and its minutes do not plan the
case. A conference about residents not in the system records their number only
(`record_unregistered_cases`).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.policy import organisation_of
from accounts.selectors import holders_of
from audit.models import Action
from audit.services import record
from casework.access import Capability, cached_access
from casework.models import Case, CaseUserObjectPermission
from casework.selectors import require_visible

from .models import ActionItem, AgendaItem, ExternalAttendance, Meeting
from .selectors import check_minutes, may_plan, minutes_version, require_agenda_access


def _view_case() -> Permission:
    return Permission.objects.get(content_type__app_label="casework", codename="view_case")


def _require(actor: User, permission: str, *, meeting: Meeting | None = None) -> None:
    if not actor.has_perm(permission):
        raise PermissionDenied
    if meeting is not None and meeting.host_id != actor.organisation_id:
        raise PermissionDenied


def sync_grants(meeting: Meeting) -> None:
    """Make the MDT-member attendees' case grants match the meeting's open items.

    Only grants held by MDT members are managed here; a grant of any other origin (a
    future break-glass or share) must use its own record so this never takes it away.
    """
    members = [
        u
        for u in meeting.attendees.all()
        if u.has_perm("casework.view_case") and not u.has_perm("casework.view_org_cases")
    ]
    # A closed case justifies no grant, even with its review still open; nor does a case
    # the host does not keep (a referred case at a municipal case conference).
    open_cases = list(
        meeting.items.filter(review_closed_at__isnull=True, case__organisation_id=meeting.host_id)
        .exclude(case__status=Case.Status.CLOSED)
        .values_list("case_id", flat=True)
    )
    permission = _view_case()
    for user in members:
        for case_id in open_cases:
            CaseUserObjectPermission.objects.get_or_create(
                user_id=user.pk, permission=permission, content_object_id=case_id
            )
    # Remove MDT members' grants on this meeting's cases (members as above, by permission:
    # a grant of any other origin stays) that no open item of a meeting they attend still
    # justifies (closed review, dropped item, no longer attending).
    member_ids = holders_of("casework.view_case").exclude(
        pk__in=holders_of("casework.view_org_cases").values("pk")
    )
    for grant in CaseUserObjectPermission.objects.filter(
        permission=permission,
        content_object__agenda_items__meeting=meeting,
        user__in=member_ids.values("pk"),
    ).distinct():
        still_needed = (
            AgendaItem.objects.unscoped()
            .filter(
                case_id=grant.content_object_id,
                review_closed_at__isnull=True,
                meeting__attendees__id=grant.user_id,
            )
            .exclude(case__status=Case.Status.CLOSED)
            .exists()
        )
        if not still_needed:
            grant.delete()


@transaction.atomic
def plan_meeting(
    actor: User,
    *,
    kind: str,
    held_at: datetime.datetime,
    legal_basis: str,
    place: str = "",
    online: bool = False,
    attendees: Iterable[User] = (),
) -> Meeting:
    _require(actor, "meetings.add_meeting")
    meeting = Meeting(
        kind=kind,
        host_id=organisation_of(actor),
        held_at=held_at,
        legal_basis=legal_basis,
        place=place,
        online=online,
        created_by=actor,
    )
    meeting.full_clean()
    meeting.save()
    meeting.attendees.set(
        [a for a in attendees if a.organisation_id == actor.organisation_id] or [actor]
    )
    record(Action.CREATE, obj=meeting, detail={"kind": kind})
    return meeting


def attendee_ids(meeting: Meeting) -> list[int]:
    """The attendees as the attendee form shows them; a stale form is refused with it."""
    return sorted(meeting.attendees.values_list("pk", flat=True))


@transaction.atomic
def set_attendees(
    actor: User,
    meeting: Meeting,
    *,
    attendees: Iterable[User],
    expected: list[int] | None = None,
) -> Meeting:
    """Replace the meeting's attendees; MDT members' case grants follow (sync_grants).

    Refused, with nothing changed: an empty list (a meeting always has an attendee, as
    plan_meeting makes sure, and removing everybody would also end every MDT member's
    access; remove people by unticking them, not all at once); adding anyone who is not
    active staff of the host (someone already attending stays, even if since moved or
    deactivated: the record of who attended is kept); and, when `expected` is given,
    a form drawn before someone else changed the list (no lost update).
    """
    _require(actor, "meetings.change_meeting", meeting=meeting)
    Meeting.objects.unscoped().select_for_update().get(pk=meeting.pk)  # one editor at a time
    current = attendee_ids(meeting)
    if expected is not None and sorted(expected) != current:
        raise ValidationError(
            _("出席者は他の職員によって更新されました。最新の出席者を確認してください。"),
            code="stale",
        )
    chosen = list(attendees)
    if not chosen:
        raise ValidationError(_("出席者を少なくとも1人選んでください。"), code="required")
    added = [a for a in chosen if a.pk not in current]
    if any(a.organisation_id != meeting.host_id or not a.is_active for a in added):
        raise ValidationError(_("出席者に加えられるのは主催組織の職員だけです。"), code="outsider")
    meeting.attendees.set(chosen)
    sync_grants(meeting)
    now = attendee_ids(meeting)
    record(
        Action.UPDATE,
        obj=meeting,
        detail={
            "attendees": now,
            "added": sorted(set(now) - set(current)),
            "removed": sorted(set(current) - set(now)),
        },
    )
    return meeting


def consent_blocks(meeting: Meeting, *, case: Case) -> bool:
    return (
        meeting.legal_basis == Meeting.LegalBasis.CONSENT_REQUIRED
        and case.sharing_consent_on is None
    )


@transaction.atomic
def add_to_agenda(
    actor: User,
    meeting: Meeting,
    *,
    case: Case,
    reason: str = "",
    presenter: User | None = None,
    question: str = "",
) -> AgendaItem:
    """Put a case on the agenda: its MDT attendees then read it until the review closes.

    `presenter` (報告者), if given, is active staff of the host; `question` (what the
    presenter asks the meeting) is encrypted like the minutes.

    Only a case the actor may act on (Capability.WRITE), still open and not restricted:
    a closed case has nothing to review, and no agenda grant reaches a restricted case, so
    the MDT members would discuss a case they cannot read (lift the restriction first).
    """
    _require(actor, "meetings.change_meeting", meeting=meeting)
    if not agenda_open(meeting):
        raise ValidationError(_("開催日を過ぎた会議には議題を追加できません。"))
    # Read afresh and locked, so that a case closing at the same moment either is seen
    # closed here or finds this item open and ends its review (end_reviews).
    case = Case.objects.unscoped().select_for_update().get(pk=case.pk)
    require_agenda_access(actor, meeting, case=case, capability=Capability.WRITE)
    _check_agenda_case(meeting, case=case)
    if presenter is not None and (
        presenter.organisation_id != meeting.host_id or not presenter.is_active
    ):
        raise ValidationError({"presenter": _("報告者は主催組織の職員から選んでください。")})
    item = AgendaItem(
        meeting=meeting,
        case=case,
        data_key=case.data_key,
        reason=reason[:200],
        presenter=presenter,
        question=question or None,
    )
    item.save()
    sync_grants(meeting)
    record(Action.CREATE, obj=item, detail={"case": case.code, "meeting": meeting.pk})
    return item


def _check_agenda_case(meeting: Meeting, *, case: Case) -> None:
    """Refuse (ValidationError) a case this agenda cannot take: closed, restricted, without
    the consent the meeting needs, or already on it."""
    if case.status == Case.Status.CLOSED:
        raise ValidationError(
            _(
                "%(code)s は終結しているため議題にできません。"
                "支援を再開する場合は、先にケースの状態を変更してください。"
            )
            % {"code": case.code}
        )
    if case.restricted:
        raise ValidationError(
            _(
                "%(code)s は閲覧制限のあるケースのため議題にできません。"
                "多職種連携チームの出席者は閲覧制限のあるケースを閲覧できません。"
                "議題にする場合は、先に閲覧制限を解除してください。"
            )
            % {"code": case.code}
        )
    if consent_blocks(meeting, case=case):
        raise ValidationError(
            _("この会議は本人の同意が必要です。%(code)s は情報共有の同意が記録されていません。")
            % {"code": case.code}
        )
    if meeting.items.filter(case=case).exists():
        raise ValidationError(_("このケースはすでに議題にあります。"))


@transaction.atomic
def drop_from_agenda(actor: User, item: AgendaItem) -> None:
    item = AgendaItem.objects.unscoped().select_related("meeting", "case").get(pk=item.pk)
    _require(actor, "meetings.change_meeting", meeting=item.meeting)
    require_agenda_access(actor, item.meeting, case=item.case, capability=Capability.WRITE)
    if item.meeting.status != Meeting.Status.PLANNED:
        raise ValidationError(_("開催済みの会議の議題は外せません。"))
    meeting, code = item.meeting, item.case.code
    item.delete()
    sync_grants(meeting)
    record(
        Action.DELETE,
        object_type="meetings.AgendaItem",
        object_ref=code,
        detail={"meeting": meeting.pk},
    )


def meeting_day(meeting: Meeting) -> datetime.date:
    """The meeting's date where it is held (settings.TIME_ZONE)."""
    return timezone.localdate(meeting.held_at)


def agenda_open(meeting: Meeting) -> bool:
    """Whether cases may still be put on the agenda: until the meeting is held, and on the
    meeting's day itself even once minutes are being taken (a case raised at the meeting);
    afterwards the agenda is the record of what was discussed."""
    return meeting.status == Meeting.Status.PLANNED or timezone.localdate() == meeting_day(meeting)


def require_held(meeting: Meeting) -> None:
    """Refuse minutes and actions for a meeting whose day has not come (local date): a
    meeting dated next month cannot be marked held, nor its agenda frozen."""
    if timezone.localdate() < meeting_day(meeting):
        raise ValidationError(
            _("この会議は%(date)sに開催予定です。議事は会議の当日以降に記録してください。")
            % {"date": f"{meeting_day(meeting):%Y/%m/%d}"},
            code="not_yet_held",
        )


def _locked_item(item: AgendaItem) -> AgendaItem:
    """The item read afresh and locked for this transaction (checked by the caller)."""
    return (
        AgendaItem.objects.unscoped()
        .select_for_update(of=("self",))
        .select_related("meeting", "case")
        .get(pk=item.pk)
    )


@transaction.atomic
def record_minutes(
    actor: User,
    item: AgendaItem,
    *,
    discussion: str = "",
    decisions: str = "",
    next_review_on: datetime.date | None = None,
    take_on_mdt: bool = False,
    close_review: bool = False,
    expected_version: str | None = None,
) -> AgendaItem:
    """Minutes of one agenda item, by an attendee or a host supervisor who reaches the case
    with Capability.MINUTES, on or after the meeting's day (`require_held`).

    Closing the review ends the MDT members' access: only when asked (`close_review`), never
    by default; a closed review stays closed. With `expected_version` (the form's
    `selectors.minutes_version`), refused as stale if someone saved the minutes since."""
    item = _locked_item(item)
    check_minutes(actor, item, write=True)
    if expected_version is not None and expected_version != minutes_version(item):
        raise ValidationError(
            _(
                "この議事は、ほかの出席者が先に更新しました。最新の記録を確認し、"
                "必要なら入力した内容を加えてから、もう一度記録してください。"
            ),
            code="stale",
        )
    if (next_review_on or take_on_mdt) and not may_plan(actor, item):
        raise ValidationError(
            _("次回見直し日と支援体制は、このケースを担当する組織の職員が決めます。")
        )
    meeting = item.meeting
    require_held(meeting)
    item.discussion = discussion or None
    item.decisions = decisions or None
    item.next_review_on = next_review_on
    item.take_on_mdt = take_on_mdt
    if close_review and item.review_closed_at is None:
        item.review_closed_at = timezone.now()
    item.save()
    if take_on_mdt:
        # A flag, not an edit of the case.
        Case.objects.unscoped().filter(pk=item.case_id).update(mdt_supported=True)
    # Minutes that record nothing do not make a meeting held (nor count it in the plan's
    # conference indicator): something discussed, decided or planned must be written.
    recorded = discussion or decisions or next_review_on or take_on_mdt or close_review
    if meeting.status == Meeting.Status.PLANNED and recorded:
        Meeting.objects.unscoped().filter(pk=meeting.pk).update(status=Meeting.Status.HELD)
    sync_grants(meeting)
    record(
        Action.UPDATE,
        obj=item,
        detail={"case": item.case.code, "review_closed": close_review, "take_on_mdt": take_on_mdt},
    )
    return item


@transaction.atomic
def add_action(
    actor: User, item: AgendaItem, *, description: str, assignee: User, due_on: datetime.date
) -> ActionItem:
    """An action from the minutes, written as they are (so, like them, on or after the
    meeting's day); its assignee must be able to read the case's minutes, or they would
    never see the action."""
    if not actor.has_perm("meetings.add_actionitem"):
        raise PermissionDenied
    item = AgendaItem.objects.unscoped().select_related("meeting", "case").get(pk=item.pk)
    check_minutes(actor, item, write=True)
    require_held(item.meeting)
    if assignee.organisation_id != item.meeting.host_id:
        raise PermissionDenied
    if not cached_access(assignee, item.case).allows(Capability.MINUTES):
        raise ValidationError(
            {"action_assignee": _("担当者は、このケースの議事を閲覧できる職員から選んでください。")}
        )
    action = ActionItem(
        agenda_item=item,
        case=item.case,
        data_key=item.case.data_key,
        description=description or None,
        assignee=assignee,
        due_on=due_on,
    )
    action.full_clean(exclude=["data_key"])
    action.save()
    record(Action.CREATE, obj=action, detail={"case": item.case.code, "assignee": assignee.pk})
    return action


@transaction.atomic
def complete_action(actor: User, action: ActionItem) -> ActionItem:
    """The assignee, or a supervisor of the host, marks an action done, while they reach
    the case with Capability.MINUTES."""
    action = (
        ActionItem.objects.unscoped()
        .select_related("case", "agenda_item__meeting")
        .get(pk=action.pk)
    )
    if action.agenda_item.meeting.host_id != actor.organisation_id:
        raise PermissionDenied
    if action.assignee_id != actor.pk and not actor.has_perm("casework.supervise_case"):
        raise PermissionDenied
    require_visible(actor, action.case, capability=Capability.MINUTES)
    action.done_at = timezone.now()
    action.save()
    record(Action.UPDATE, obj=action, detail={"case": action.case.code, "done": True})
    return action


@transaction.atomic
def end_reviews(case: Case, *, reason: str) -> int:
    """End the open agenda reviews of a case whose work here ended (`reason`: closed,
    merged or transferred), and the MDT grants they gave.

    Called inside the transaction that closes, merges or transfers the case (through the
    signal `casework.signals.case_ended`, casework.services.notify_case_ended), so no agenda grant
    outlives it. The items stay on their agendas, with their minutes; returns how many
    reviews were ended.
    """
    items = list(
        AgendaItem.objects.unscoped()
        .select_for_update(of=("self",))
        .filter(case_id=case.pk, review_closed_at__isnull=True)
        .select_related("meeting")
    )
    now = timezone.now()
    for item in items:
        item.review_closed_at = now
        item.save(update_fields=["review_closed_at"])
    for meeting in {item.meeting_id: item.meeting for item in items}.values():
        sync_grants(meeting)
    for item in items:
        record(
            Action.UPDATE,
            obj=item,
            detail={"case": case.code, "review_closed": True, "reason": f"case_{reason}"},
        )
    return len(items)


@transaction.atomic
def add_external_attendance(
    actor: User,
    meeting: Meeting,
    *,
    organisation_type: str,
    profession: str = "",
    count: int | None = 1,
) -> ExternalAttendance:
    """People from outside the system: counted, never named, and given no access.

    Adds one row; it never touches the meeting's attendees or anyone's grants."""
    _require(actor, "meetings.change_meeting", meeting=meeting)
    if count is None or count < 1:
        raise ValidationError({"count": _("人数は1人以上で入力してください。")})
    row = ExternalAttendance(
        meeting=meeting, organisation_type=organisation_type, profession=profession, count=count
    )
    row.full_clean()
    row.save()
    record(Action.UPDATE, obj=meeting, detail={"external": organisation_type, "count": count})
    return row


@transaction.atomic
def record_unregistered_cases(actor: User, meeting: Meeting, *, count: int | None) -> Meeting:
    """A case conference about residents not in the system: how many were discussed, a
    count and nothing about the people. Like minutes for an agenda item, it marks the
    conference held, and only on or after its date.

    Refused, with nothing changed: another kind of meeting, a count below 1, a date still
    to come."""
    _require(actor, "meetings.change_meeting", meeting=meeting)
    meeting = Meeting.objects.unscoped().select_for_update().get(pk=meeting.pk)
    if meeting.kind != Meeting.Kind.CASE_CONFERENCE:
        raise ValidationError(_("登録外の住民の検討件数は個別ケース会議にだけ記録できます。"))
    if count is None or count < 1:
        raise ValidationError({"count": _("件数は1件以上で入力してください。")})
    require_held(meeting)
    previous = meeting.unregistered_cases_discussed
    meeting.unregistered_cases_discussed = count
    meeting.status = Meeting.Status.HELD
    meeting.save(update_fields=["unregistered_cases_discussed", "status"])
    record(
        Action.UPDATE,
        obj=meeting,
        detail={"unregistered_cases": count, "previous": previous, "held": True},
    )
    return meeting
