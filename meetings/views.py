"""Meeting screens: list, plan, pack with agenda, printable pack, minutes, actions."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts.access import signed_in
from casework import drafts
from casework.access import Capability
from casework.models import Case

from . import selectors, services
from .forms import (
    AgendaItemForm,
    AttendeesForm,
    ExternalAttendanceForm,
    MeetingForm,
    MinutesForm,
    UnregisteredCasesForm,
)
from .models import Meeting
from .pack import (
    DEFAULT_NO_CONTACT_DAYS,
    PACK_SUGGESTIONS,
    build_pack,
    print_pack,
    record_pack_printed,
)


def _own_meeting(request: HttpRequest, pk: int) -> Meeting:
    """A meeting the user runs (selectors.meeting_for: 404 if not theirs to see)."""
    return selectors.meeting_for(signed_in(request), pk, manage=True)


def _no_contact_days(request: HttpRequest) -> int:
    try:
        return max(1, min(3650, int(request.GET.get("days", DEFAULT_NO_CONTACT_DAYS))))
    except ValueError:
        return DEFAULT_NO_CONTACT_DAYS


@never_cache
def meeting_list(request: HttpRequest) -> HttpResponse:
    meetings = selectors.meetings_for(signed_in(request)).select_related("host")[:100]
    return render(request, "meetings/meeting_list.html", {"meetings": meetings})


@never_cache
@require_http_methods(["GET", "POST"])
def meeting_new(request: HttpRequest) -> HttpResponse:
    user = signed_in(request)
    form = MeetingForm(
        request.POST or None,
        staff=selectors.new_meeting_staff(user),
        initial=selectors.meeting_defaults(user),
    )
    if request.method == "POST" and form.is_valid():
        meeting = services.plan_meeting(user, **form.cleaned_data)
        messages.success(request, _("会議を登録しました。"))
        return redirect("meetings:detail", pk=meeting.pk)
    return render(request, "meetings/meeting_form.html", {"form": form})


def _detail_page(
    request: HttpRequest,
    meeting: Meeting,
    *,
    attendees_form: AttendeesForm | None = None,
    external_form: ExternalAttendanceForm | None = None,
    unregistered_form: UnregisteredCasesForm | None = None,
    agenda_form: AgendaItemForm | None = None,
) -> HttpResponse:
    """The meeting page; after a refused attendee, external-attendee or agenda form, that
    form comes back bound, with its field errors, and the others fresh."""
    user = signed_in(request)
    days = _no_contact_days(request)
    pack = build_pack(user, meeting, no_contact_days=days)
    selectors.record_actions_read(user, pack.open_actions)  # their text is shown
    items = {item.case_id: item for item in meeting.items.select_related("case")}
    attendees = list(meeting.attendees.all())
    if attendees_form is None:
        attendees_form = AttendeesForm(
            meeting=meeting, attendee_ids=sorted(a.pk for a in attendees)
        )
    return render(
        request,
        "meetings/meeting_detail.html",
        {
            "meeting": meeting,
            "pack": pack,
            "items": items,
            "attendees": attendees,
            "attendees_form": attendees_form,
            "external": list(meeting.external_attendance.all()),
            "external_form": external_form or ExternalAttendanceForm(),
            "agenda_form": agenda_form or AgendaItemForm(staff=selectors.meeting_staff(meeting)),
            "days": days,
            # A case conference: referred cases on its agenda, and residents not in the
            # system as a count (meetings/_conference.html).
            "referral_items": pack.referral_items,
            "referral_candidates": selectors.referral_candidates(user, meeting),
            "unregistered_form": unregistered_form
            or UnregisteredCasesForm(
                initial={"count": meeting.unregistered_cases_discussed or None}
            ),
            "suggestions": PACK_SUGGESTIONS,
            "agenda_open": services.agenda_open(meeting),
        },
    )


@never_cache
def meeting_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = signed_in(request)
    meeting = selectors.meeting_for(user, pk)
    if not selectors.may_manage(user, meeting):
        return _attended_page(request, meeting)
    return _detail_page(request, meeting)


def _attended_page(request: HttpRequest, meeting: Meeting) -> HttpResponse:
    """The meeting as an attendee who does not run it sees it (an MDT member): when, where,
    who, and the agenda cases they reach, with their minutes; no forms, no pack."""
    return render(
        request,
        "meetings/meeting_attended.html",
        {
            "meeting": meeting,
            "attendees": list(meeting.attendees.all()),
            "items": list(selectors.attended_agenda(signed_in(request), meeting)),
        },
    )


@never_cache
def meeting_print(request: HttpRequest, pk: int) -> HttpResponse:
    """The printable pack (print_pack): agenda page, one page per agenda case the
    viewer may read, attendance; pseudonymous codes only; every print is audited."""
    user = signed_in(request)
    meeting = _own_meeting(request, pk)
    printed = print_pack(user, meeting, no_contact_days=_no_contact_days(request))
    record_pack_printed(user, printed)
    return render(request, "meetings/meeting_print.html", {"meeting": meeting, "printed": printed})


@never_cache
@require_POST
def agenda_add(request: HttpRequest, pk: int) -> HttpResponse:
    user = signed_in(request)
    meeting = _own_meeting(request, pk)
    details = AgendaItemForm(request.POST, staff=selectors.meeting_staff(meeting))
    if not details.is_valid():
        return _detail_page(request, meeting, agenda_form=details)
    code = request.POST.get("code", "").strip().upper()
    case = selectors.agenda_case(user, meeting, code=code)
    if case is None:
        messages.error(request, _("このケースコードは見つかりません。"))
    else:
        try:
            services.add_to_agenda(
                user,
                meeting,
                case=case,
                reason=request.POST.get("reason", ""),
                **details.cleaned_data,
            )
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("%(code)s を議題に追加しました。") % {"code": case.code})
    return redirect("meetings:detail", pk=meeting.pk)


@never_cache
@require_POST
def agenda_drop(request: HttpRequest, pk: str) -> HttpResponse:
    user = signed_in(request)
    item = selectors.agenda_item_for(user, pk, capability=Capability.WRITE)
    try:
        services.drop_from_agenda(user, item)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    return redirect("meetings:detail", pk=item.meeting_id)


def _minutes_case(user, query, typed, *, pk: str) -> Case:
    """minutes' case, for a draft: an item whose minutes the user may write."""
    return selectors.minutes_item_for(user, pk, write=True).case


@drafts.keeps_draft(case_of=_minutes_case)
@never_cache
@require_http_methods(["GET", "POST"])
def minutes(request: HttpRequest, pk: str) -> HttpResponse:
    """One item's minutes: read by whoever reaches its case with minutes access, written by
    attendees and host supervisors (selectors.minutes_item_for); every showing is audited."""
    user = signed_in(request)
    item = selectors.minutes_item_for(user, pk, write=request.method == "POST")
    form_options = _minutes_form_options(request, item)
    form = MinutesForm(request.POST or None, **form_options)
    draft = drafts.restore(request, form)
    stale = False
    if request.method == "POST" and form.is_valid():
        refused, stale = _save_minutes(request, item, form, form_options)
        if refused is None:
            messages.success(request, _("議事を記録しました。"))
            # Everyone who writes minutes sees the meeting: its attendees on the read-only
            # page, those who run it on the full one (selectors.meeting_for).
            return redirect("meetings:detail", pk=item.meeting_id)
        form = refused
    actions = list(item.actions.select_related("assignee"))
    selectors.record_minutes_read(user, item)
    return render(
        request,
        "meetings/minutes_form.html",
        {
            "item": item,
            "form": form,
            "actions": actions,
            "can_write": selectors.may_write_minutes(user, item.meeting),
            # Minutes are taken on or after the meeting's day (services.require_held).
            "held_on": services.meeting_day(item.meeting),
            "not_yet_held": timezone.localdate() < services.meeting_day(item.meeting),
            # Someone saved these minutes while this person was writing (_save_minutes).
            "stale": stale,
            "draft": draft,
        },
    )


def _minutes_form_options(request: HttpRequest, item) -> dict:
    initial = {
        "discussion": item.discussion,
        "decisions": item.decisions,
        "next_review_on": item.next_review_on,
        # Shown as the case stands: a case the MDT already supports is ticked.
        "take_on_mdt": item.take_on_mdt or item.case.mdt_supported,
        "version": selectors.minutes_version(item),
    }
    return {
        "staff": selectors.meeting_staff(item.meeting),
        "initial": initial,
        "planning": selectors.may_plan(signed_in(request), item),
        "review_closed": item.review_closed_at is not None,
    }


def _save_minutes(
    request: HttpRequest, item, form: MinutesForm, form_options: dict
) -> tuple[MinutesForm | None, bool]:
    """Record the minutes (and an action, if one is given) in one transaction. Returns
    (None, False) when saved, else the form to show again with its error, and whether
    someone else saved the minutes meanwhile (stale)."""
    user = signed_in(request)
    data = form.cleaned_data
    try:
        with transaction.atomic():  # a refused action keeps the minutes unchanged too
            services.record_minutes(
                user,
                item,
                discussion=data["discussion"],
                decisions=data["decisions"],
                next_review_on=data.get("next_review_on"),
                take_on_mdt=data.get("take_on_mdt", False),
                close_review=data["close_review"],
                expected_version=data["version"] or None,  # a form as rendered has one
            )
            if data.get("action_description"):
                services.add_action(
                    user,
                    item,
                    description=data["action_description"],
                    assignee=data["action_assignee"],
                    due_on=data["action_due_on"],
                )
    except ValidationError as exc:
        stale = getattr(exc, "code", None) == "stale"  # a dict of field errors has none
        if stale:
            # Keep what this person typed; show the minutes as saved now beside it, and
            # draw the form from the current version so a second press is deliberate.
            item.refresh_from_db()
            resubmit = request.POST.copy()
            resubmit["version"] = selectors.minutes_version(item)
            form = MinutesForm(resubmit, **form_options)
            form.is_valid()
        form.add_error(None, exc)
        return form, stale
    return None, False


@never_cache
@require_POST
def action_done(request: HttpRequest, pk: str) -> HttpResponse:
    user = signed_in(request)
    action = selectors.action_for(user, pk)
    services.complete_action(user, action)
    messages.success(request, _("対応事項を完了にしました。"))
    return redirect("home")


@never_cache
@require_POST
def attendees(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _own_meeting(request, pk)
    form = AttendeesForm(request.POST, meeting=meeting)
    if form.is_valid():
        try:
            services.set_attendees(
                signed_in(request),
                meeting,
                attendees=form.cleaned_data["attendees"],
                expected=form.cleaned_data["current"],
            )
        except ValidationError as exc:
            if getattr(exc, "code", None) == "stale":  # show the list as it is now, with why
                messages.error(request, exc.messages[0])
                return _detail_page(request, meeting)
            form.add_error("attendees", exc)
        else:
            messages.success(request, _("出席者を更新しました。"))
            return redirect("meetings:detail", pk=meeting.pk)
    return _detail_page(request, meeting, attendees_form=form)


@never_cache
@require_POST
def external_add(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _own_meeting(request, pk)
    form = ExternalAttendanceForm(request.POST)
    if form.is_valid():
        try:
            services.add_external_attendance(signed_in(request), meeting, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("外部出席者を記録しました。"))
            return redirect("meetings:detail", pk=meeting.pk)
    return _detail_page(request, meeting, external_form=form)


@never_cache
@require_POST
def unregistered_cases(request: HttpRequest, pk: int) -> HttpResponse:
    """A case conference about residents not in the system: the number discussed, which
    marks it held (services.record_unregistered_cases)."""
    meeting = _own_meeting(request, pk)
    form = UnregisteredCasesForm(request.POST)
    if form.is_valid():
        try:
            services.record_unregistered_cases(
                signed_in(request), meeting, count=form.cleaned_data["count"]
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("登録外の住民の検討件数を記録しました。"))
            return redirect("meetings:detail", pk=meeting.pk)
    return _detail_page(request, meeting, unregistered_form=form)
