"""Outreach screens: schedule, visit plan and log with check-in, programmes and attendance."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts.access import signed_in
from accounts.selectors import municipalities
from audit.models import Action
from audit.services import record
from casework import drafts
from casework.access import Capability
from casework.models import Case
from casework.selectors import require_visible

from . import selectors, services
from .forms import SessionForm, VisitCompleteForm, VisitPlanForm
from .models import ParticipantType


@never_cache
def schedule(request: HttpRequest) -> HttpResponse:
    try:
        monday = datetime.date.fromisoformat(request.GET.get("week", ""))
    except ValueError:
        monday = timezone.localdate()
    monday -= datetime.timedelta(days=monday.weekday())
    team = request.GET.get("team") == "1"
    visits = list(selectors.week_schedule(signed_in(request), monday=monday, team=team))
    days = [
        (
            monday + datetime.timedelta(days=i),
            [
                v
                for v in visits
                if timezone.localtime(v.planned_start).date() == monday + datetime.timedelta(days=i)
            ],
        )
        for i in range(7)
    ]
    return render(
        request,
        "outreach/schedule.html",
        {
            "days": days,
            "team": team,
            "monday": monday,
            "previous": monday - datetime.timedelta(days=7),
            "next": monday + datetime.timedelta(days=7),
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
def visit_new(request: HttpRequest) -> HttpResponse:
    user = signed_in(request)
    form = VisitPlanForm(
        request.POST or None,
        user=user,
        initial={"case_code": request.GET.get("case", ""), "workers": [user]},
    )
    # A valid form has found its case (clean_case_code); the check says so to mypy.
    if request.method == "POST" and form.is_valid() and form.case is not None:
        data = form.cleaned_data
        try:
            visit = services.plan_visit(
                user,
                form.case,
                planned_start=data["planned_start"],
                workers=data["workers"],
                kind=data["kind"],
                destination=data["destination"],
                purpose=data["purpose"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("訪問を予定しました。"))
            return redirect("outreach:visit_detail", pk=visit.pk)
    return render(request, "outreach/visit_form.html", {"form": form})


def _visit_case(user, query, typed, *, pk: str) -> Case:
    """visit_detail's case, for a draft of its result form: a visit the user may see, on a
    case they may write to (as services.complete_visit requires)."""
    case = get_object_or_404(selectors.visible_visits(user).select_related("case"), pk=pk).case
    require_visible(user, case, capability=Capability.WRITE)
    return case


@drafts.keeps_draft(case_of=_visit_case)
@never_cache
@require_http_methods(["GET", "POST"])
def visit_detail(request: HttpRequest, pk: str) -> HttpResponse:
    user = signed_in(request)
    visit = get_object_or_404(selectors.visible_visits(user).select_related("case"), pk=pk)
    if request.method == "GET":  # the page shows the visit's notes: a read of content
        record(Action.VIEW, obj=visit, detail={"case": visit.case.code})
    form = VisitCompleteForm(request.POST or None)
    draft = drafts.restore(request, form)
    if request.method == "POST" and form.is_valid():
        try:
            services.complete_visit(user, visit, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("訪問の結果を記録しました。"))
            return redirect("casework:case_detail", code=visit.case.code)
    return render(
        request,
        "outreach/visit_detail.html",
        {
            "visit": visit,
            "form": form,
            "workers": list(visit.workers.all()),
            "overdue": visit.is_overdue(timezone.now()),
            "draft": draft,
        },
    )


def _visit_action(
    request: HttpRequest, pk: str, action, done: str, *, visits=selectors.visible_visits
) -> HttpResponse:
    user = signed_in(request)
    visit = get_object_or_404(visits(user), pk=pk)
    try:
        action(user, visit)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, done)
    return redirect("outreach:visit_detail", pk=visit.pk)


@never_cache
@require_POST
def visit_start(request: HttpRequest, pk: str) -> HttpResponse:
    return _visit_action(
        request,
        pk,
        services.start_visit,
        _("訪問を開始しました。帰着したら帰着連絡をしてください。"),
    )


@never_cache
@require_POST
def visit_checkin(request: HttpRequest, pk: str) -> HttpResponse:
    return _visit_action(
        request,
        pk,
        services.check_in,
        _("帰着連絡を受け付けました。"),
        visits=selectors.checkable_visits,
    )


@never_cache
@require_POST
def visit_cancel(request: HttpRequest, pk: str) -> HttpResponse:
    return _visit_action(request, pk, services.cancel_visit, _("訪問を中止にしました。"))


@never_cache
def programme_list(request: HttpRequest) -> HttpResponse:
    programmes = selectors.active_programmes(signed_in(request))
    return render(request, "outreach/programme_list.html", {"programmes": programmes})


@never_cache
@require_http_methods(["GET", "POST"])
def programme_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = signed_in(request)
    programme = selectors.programme_for(user, pk)
    form = SessionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            session = services.add_session(user, programme, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return redirect("outreach:attendance", pk=session.pk)
    sessions = programme.sessions.all()[:50]
    return render(
        request,
        "outreach/programme_detail.html",
        {"programme": programme, "sessions": sessions, "form": form},
    )


@never_cache
@require_http_methods(["GET", "POST"])
def attendance(request: HttpRequest, pk: int) -> HttpResponse:
    """A grid of counts: participant types across, residences down."""
    user = signed_in(request)
    session = selectors.session_for(user, pk)
    rows = [(None, _("不明・県外"))] + [(m.pk, m.name) for m in municipalities()]
    types = ParticipantType.choices
    # (participant type, residence id) -> the count shown: as saved, or as typed in a refused form
    existing: dict[tuple[str, int | None], int | str] = {
        (a.participant_type, a.residence_id): a.count for a in session.attendance.all()
    }
    error = None
    if request.method == "POST":
        grid, error = {}, None
        for residence_id, _name in rows:
            for participant_type, _label in types:
                raw = request.POST.get(f"n-{participant_type}-{residence_id or 0}", "").strip()
                if not raw:
                    continue
                try:
                    grid[(participant_type, residence_id)] = int(raw)
                except ValueError:
                    error = _("人数は数字で入力してください。")
        if error is None:
            try:
                services.record_attendance(user, session, grid=grid)
            except ValidationError as exc:
                error = " ".join(exc.messages)
            else:
                messages.success(request, _("参加者数を保存しました。"))
                return redirect("outreach:programme_detail", pk=session.programme_id)
        existing = {
            key: request.POST.get(f"n-{key[0]}-{key[1] or 0}", "")
            for key in [(t, r) for r, _n in rows for t, _l in types]
        }
    table = [
        (
            residence_id,
            name,
            [
                (t, f"n-{t}-{residence_id or 0}", existing.get((t, residence_id), ""))
                for t, _l in types
            ],
        )
        for residence_id, name in rows
    ]
    return render(
        request,
        "outreach/attendance.html",
        {"session": session, "types": types, "table": table, "error": error},
    )
