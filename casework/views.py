"""Casework screens: parse, call a selector or service, render. Access: config/access.py."""

from __future__ import annotations

import datetime
import uuid

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import reauth
from accounts.access import signed_in
from audit.models import Action
from audit.services import record

from . import access_review as access_reviews
from . import drafts, selectors, services, signals
from .access import Capability, cached_access
from .exports import FORMATS, case_record, export_cases, export_contacts
from .filters import CaseFilter
from .forms import (
    AccessReviewForm,
    BreakGlassForm,
    CaseEditForm,
    CaseOpenForm,
    CloseForm,
    ContactCorrectionForm,
    ContactForm,
    ExportForm,
    IdentityEditForm,
    IdentityExportForm,
    IdentityPrintForm,
    LinkContactForm,
    MergeForm,
    MilestoneForm,
    SearchForm,
    UnlinkContactForm,
)
from .models import Case, Contact
from .search import LIMIT as SEARCH_LIMIT
from .search import search_cases
from .work_queue import work_queue

# How many items of each kind the dashboard shows (the queue page shows all).
DASHBOARD_QUEUE_ITEMS = 5

PAGE_SIZE = 50


def _form_errors_from(exc: ValidationError, form) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


@never_cache
def dashboard(request: HttpRequest) -> HttpResponse:
    user = request.user
    context = {"roles": user.roles, "organisation": user.organisation}
    if user.has_perm("casework.view_org_cases"):  # roles that keep cases (not MDT members)
        context["board"] = selectors.dashboard(user)
    # The top of the work queue (empty for a user who may not view cases).
    context["queue"] = work_queue(user).top(DASHBOARD_QUEUE_ITEMS)
    if user.has_perm("casework.supervise_case"):
        context["break_glass_pending"] = selectors.break_glass_queue(user).count()
    # Other apps add panels through the signal `signals.dashboard_panel` (user) returning
    # (template, context) or None; casework imports none of them.
    context["panels"] = [
        panel for _receiver, panel in signals.dashboard_panel.send(sender=None, user=user) if panel
    ]
    return render(request, "casework/dashboard.html", context)


def _contact_new_case(user, query, typed, **kwargs) -> Case | None:
    """contact_new's case for a draft: the one its link names (?case=), which the user must
    write to (else 404, as the form would say); or, on the bare form, the one typed into
    its case code if the user may write to it, so that the draft goes with that case."""
    writable = selectors.visible_cases(user, capability=Capability.WRITE)
    code = query.get("case", "")
    if code:
        return get_object_or_404(writable, code=code.strip().upper()[:12])
    typed_code = (typed.get("case_code", "") if typed is not None else "").strip().upper()
    if typed_code:  # a NUL never gets here (accounts.middleware.RejectNulMiddleware)
        return writable.filter(code=typed_code[:12]).first()
    return None


@never_cache
@require_GET
def work_queue_page(request: HttpRequest) -> HttpResponse:
    """The whole work queue: every item due today or overdue, grouped by kind."""
    return render(request, "casework/work_queue.html", {"queue": work_queue(signed_in(request))})


@drafts.keeps_draft(case_of=_contact_new_case, query=("case",))
@never_cache
@require_http_methods(["GET", "POST"])
def contact_new(request: HttpRequest) -> HttpResponse:
    initial = {"case_code": request.GET.get("case", "")}
    form = ContactForm(request.POST or None, user=request.user, initial=initial)
    draft = drafts.restore(request, form)
    if request.method == "POST" and form.is_valid():
        try:
            contact = services.log_contact(request.user, case=form.case, **form.service_fields())
        except ValidationError as exc:
            _form_errors_from(exc, form)
        else:
            messages.success(request, _("相談記録を保存しました。"))
            if contact.case is not None:
                return redirect("casework:case_detail", code=contact.case.code)
            return redirect("casework:contact_new")
    return render(request, "casework/contact_form.html", {"form": form, "draft": draft})


@never_cache
def case_list(request: HttpRequest) -> HttpResponse:
    queryset = selectors.case_list(request.user)
    case_filter = CaseFilter(request.GET or None, queryset=queryset, user=request.user)
    cases = case_filter.qs if case_filter.is_bound and case_filter.is_valid() else queryset
    page = Paginator(cases, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "casework/case_list.html",
        {"filter": case_filter, "page": page, "query": query.urlencode()},
    )


def _contact_for_writing(user, pk: str) -> Contact:
    """A contact the user may write to: of a case they write to, or anonymous of their own
    organisation (services check again); others are a 404."""
    contact = get_object_or_404(
        selectors.visible_contacts(user).select_related("case__client"), pk=pk
    )
    if contact.case is not None and not cached_access(user, contact.case).allows(Capability.WRITE):
        raise Http404
    return contact


def _contact_case(user, query, typed, *, pk: str) -> Case | None:
    """contact_correct's case, for a draft of the correction."""
    return _contact_for_writing(user, pk).case


def _may_link(user, contact: Contact) -> bool:
    return contact.case_id is None and user.has_perm("casework.change_contact")


@drafts.keeps_draft(case_of=_contact_case)
@never_cache
@require_http_methods(["GET", "POST"])
def contact_correct(request: HttpRequest, pk: str) -> HttpResponse:
    """Correct a saved contact (its author within the window, supervisors any time),
    with the reason; the earlier text stays in the history. Linking it to a case, or
    undoing a link, are pages of their own (nothing typed here is lost)."""
    user = signed_in(request)
    contact = _contact_for_writing(user, pk)
    may_correct = services.may_correct(user, contact)
    may_link = _may_link(user, contact)
    if not may_correct and (not may_link or request.method == "POST"):
        # Say why: the author's window has passed, or it is someone else's record.
        return render(
            request,
            "casework/correction_refused.html",
            {"contact": contact, "days": settings.CONTACT_CORRECTION_DAYS},
            status=403,
        )
    form = (
        ContactCorrectionForm(request.POST or None, user=user, contact=contact)
        if may_correct
        else None
    )
    draft = drafts.restore(request, form) if form is not None else None
    if request.method == "POST" and form is not None and form.is_valid():
        try:
            services.correct_contact(
                user,
                contact,
                reason=form.cleaned_data["correction_reason"],
                **form.service_fields(),
            )
        except ValidationError as exc:
            _form_errors_from(exc, form)
        else:
            messages.success(request, _("相談記録を訂正しました。"))
            if contact.case is not None:
                return redirect("casework:case_detail", code=contact.case.code)
            return redirect("home")
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "casework/contact_correct.html",
        {
            "form": form,
            "contact": contact,
            "may_link": may_link,
            "may_unlink": services.may_unlink(user, contact),
            "draft": draft,
        },
        status=status,
    )


@never_cache
@require_http_methods(["GET", "POST"])
def contact_link(request: HttpRequest, pk: str) -> HttpResponse:
    """Link an anonymous contact to the case opened after it (audited)."""
    user = signed_in(request)
    contact = _contact_for_writing(user, pk)
    if not _may_link(user, contact):
        raise PermissionDenied
    form = LinkContactForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid() and form.case is not None:
        try:
            services.link_contact(user, contact, form.case)
        except ValidationError as exc:
            _form_errors_from(exc, form)
        else:
            messages.success(request, _("相談記録をケースに紐付けました。"))
            return redirect("casework:case_detail", code=form.case.code)
    return render(
        request,
        "casework/contact_link.html",
        {"contact": contact, "form": form, "unlink": False},
        status=400 if request.method == "POST" else 200,
    )


@never_cache
@require_http_methods(["GET", "POST"])
def contact_unlink(request: HttpRequest, pk: str) -> HttpResponse:
    """Undo a link made in error, with the reason (services.unlink_contact)."""
    user = signed_in(request)
    contact = _contact_for_writing(user, pk)
    if not services.may_unlink(user, contact):
        # Say why: never linked, or someone else's link past the window.
        return render(
            request,
            "casework/unlink_refused.html",
            {
                "contact": contact,
                "linked": services.was_linked(contact),
                "days": settings.CONTACT_CORRECTION_DAYS,
            },
            status=403,
        )
    case_code = contact.case.code if contact.case else ""
    form = UnlinkContactForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.unlink_contact(user, contact, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            _form_errors_from(exc, form)
        else:
            messages.success(request, _("紐付けを取り消しました。匿名の相談に戻りました。"))
            return redirect("casework:case_detail", code=case_code)
    return render(
        request,
        "casework/contact_link.html",
        {"contact": contact, "form": form, "unlink": True},
        status=400 if request.method == "POST" else 200,
    )


@never_cache
@require_http_methods(["GET", "POST"])
def case_link_anonymous(request: HttpRequest, code: str) -> HttpResponse:
    """The organisation's recent anonymous contacts, to link one to this case: found by
    date, method and who took it, never by its text."""
    user = signed_in(request)
    case = get_object_or_404(selectors.visible_cases(user, capability=Capability.WRITE), code=code)
    anonymous = selectors.recent_anonymous_contacts(user)
    if request.method == "POST":
        try:
            pk = uuid.UUID(request.POST.get("contact", ""))
        except ValueError:
            return _text(_("相談記録を選んでください。"), status=400)
        contact = get_object_or_404(anonymous, pk=pk)
        try:
            services.link_contact(user, contact, case)
        except ValidationError as exc:
            errors = exc.messages
        else:
            messages.success(request, _("相談記録をケースに紐付けました。"))
            return redirect("casework:case_detail", code=case.code)
    else:
        errors = []
    return render(
        request,
        "casework/case_link_anonymous.html",
        {
            "case": case,
            "contacts": anonymous[:100],
            "days": selectors.ANONYMOUS_LINK_DAYS,
            "errors": errors,
        },
        status=400 if errors else 200,
    )


@never_cache
@require_http_methods(["GET", "POST"])
def case_search(request: HttpRequest) -> HttpResponse:
    """Find a case by the caller's name in kana, phone or birth date. POST, so that the
    terms stay out of addresses, browser history and access logs."""
    form = SearchForm(request.POST or None)
    cases = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            cases = search_cases(signed_in(request), form.terms())
        else:
            status = 400
    return render(
        request,
        "casework/case_search.html",
        {"form": form, "cases": cases, "limit": SEARCH_LIMIT},
        status=status,
    )


def _download(body: bytes, fmt: str, stem: str) -> HttpResponse:
    response = HttpResponse(body, content_type=FORMATS[fmt])
    stamp = timezone.localtime().strftime("%Y%m%d_%H%M")
    response["Content-Disposition"] = f'attachment; filename="{stem}_{stamp}.{fmt}"'
    return response


def _refused(exc: ValidationError) -> HttpResponse:
    return HttpResponse(
        " ".join(exc.messages), status=400, content_type="text/plain; charset=utf-8"
    )


@never_cache
@require_http_methods(["GET"])
def case_export(request: HttpRequest, fmt: str) -> HttpResponse:
    """The case list as filtered on screen, pseudonymous."""
    if fmt not in FORMATS:
        raise Http404
    queryset = selectors.visible_cases(request.user)
    params = request.GET.copy()
    params.pop("page", None)
    case_filter = CaseFilter(params or None, queryset=queryset, user=request.user)
    if case_filter.is_bound and not case_filter.is_valid():
        return HttpResponse(
            _("絞り込みの条件が正しくありません：%(errors)s")
            % {"errors": case_filter.errors.as_text()},
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    cases = case_filter.qs if case_filter.is_bound else queryset
    filters = {key: params.get(key) for key in params if params.get(key)}
    try:
        body, _rows = export_cases(request.user, cases, fmt=fmt, filters=filters)
    except ValidationError as exc:
        return _refused(exc)
    return _download(body, fmt, "cases")


def _export_or_errors(request: HttpRequest, context: dict, export, stem: str) -> HttpResponse:
    """The file the valid form asks for; otherwise the form again, with its errors."""
    form = context["form"]
    if form.is_valid():
        try:
            body, _rows = export(form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return _download(body, form.cleaned_data["fmt"], stem)
    return render(request, "casework/export.html", context, status=400)


@never_cache
@require_http_methods(["GET"])
def contact_export(request: HttpRequest) -> HttpResponse:
    """The contact log of a period, pseudonymous: a form, then the file."""
    if "fmt" not in request.GET:
        today = timezone.localdate()
        initial = {"start": today.replace(day=1), "end": today}
        return render(request, "casework/export.html", {"form": ExportForm(initial=initial)})
    return _export_or_errors(
        request,
        {"form": ExportForm(request.GET)},
        lambda data: export_contacts(
            request.user, start=data["start"], end=data["end"], fmt=data["fmt"]
        ),
        "contacts",
    )


@never_cache
@require_http_methods(["GET", "POST"])
def identity_export(request: HttpRequest) -> HttpResponse:
    """Supervisors: an export with identity, on a stated purpose and a recent password."""
    if request.method == "GET":
        return render(
            request, "casework/export.html", {"form": IdentityExportForm(), "identity": True}
        )
    return _identity_export_post(request)


def _identity_export_post(request: HttpRequest) -> HttpResponse:
    step_up = reauth.step_up_of(request)

    def export(data: dict):
        if data["kind"] == "cases":
            cases = selectors.visible_cases(request.user)
            return export_cases(
                request.user,
                cases,
                fmt=data["fmt"],
                identity=True,
                purpose=data["purpose"],
                step_up=step_up,
            )
        return export_contacts(
            request.user,
            start=data["start"],
            end=data["end"],
            fmt=data["fmt"],
            identity=True,
            purpose=data["purpose"],
            step_up=step_up,
        )

    kind = request.POST.get("kind", "")
    return _export_or_errors(
        request,
        {"form": IdentityExportForm(request.POST), "identity": True},
        export,
        f"{kind}_identity" if kind in ("cases", "contacts") else "export",
    )


@drafts.keeps_draft(case_of=drafts.no_case)
@never_cache
@require_http_methods(["GET", "POST"])
def case_new(request: HttpRequest) -> HttpResponse:
    form = CaseOpenForm(request.POST or None)
    draft = drafts.restore(request, form)
    duplicates = None
    if request.method == "POST" and form.is_valid():
        try:
            case = services.open_case(
                request.user,
                identity=form.identity(),
                client_attributes=form.attributes(),
                case_fields=form.case_fields(),
                confirm_duplicate=form.cleaned_data["confirm_duplicate"],
            )
        except services.DuplicateSuspected as exc:
            duplicates = exc.cases
            form = CaseOpenForm({**request.POST.dict(), "confirm_duplicate": "on"})
            form.is_valid()
        except ValidationError as exc:
            _form_errors_from(exc, form)
        else:
            _notice_matches_elsewhere(request, form)
            messages.success(request, _("ケースを登録しました（%(code)s）。") % {"code": case.code})
            return redirect("casework:case_detail", code=case.code)
    return render(
        request,
        "casework/case_form.html",
        {"form": form, "duplicates": duplicates, "draft": draft},
    )


@never_cache
@require_POST
def draft_save(request: HttpRequest) -> HttpResponse:
    """Keep what is being typed (htmx, a second after each keystroke); answers the line the
    form shows under its buttons, or 4xx with the reason."""
    user = signed_in(request)
    try:
        draft = drafts.save(user, request.POST.get(drafts.PATH_FIELD, ""), request.POST)
    except ValidationError as exc:
        return _text(" ".join(exc.messages), status=400)
    saved = timezone.localtime(draft.saved_at)
    return _text(_("下書きを保存しました（%(time)s）") % {"time": saved.strftime("%H:%M:%S")})


def _text(message: str, *, status: int = 200) -> HttpResponse:
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


@never_cache
@require_POST
def draft_discard(request: HttpRequest) -> HttpResponse:
    """Throw the restored draft away and show the form empty again."""
    user = signed_in(request)
    try:
        page = drafts.discard(user, request.POST.get(drafts.PATH_FIELD, ""))
    except ValidationError:
        return _text(_("戻り先が正しくありません。"), status=400)
    messages.info(request, _("下書きを破棄しました。"))
    if request.htmx:  # the restored draft's button: the page opens again, empty
        response = HttpResponse(status=204)
        response["HX-Redirect"] = page
        return response
    return redirect(page)


def _notice_matches_elsewhere(request: HttpRequest, form: CaseOpenForm) -> None:
    """Supervisors learn that another organisation may know the person — only its name."""
    if not request.user.has_perm("casework.supervise_case"):
        return
    data = form.cleaned_data
    others = selectors.find_duplicates(
        request.user,
        name_kana=data.get("name_kana") or "",
        birth_date=data.get("birth_date"),
        phone=data.get("phone") or "",
    ).other_organisations
    if others:
        messages.info(
            request,
            _("同一人物の可能性がある記録が他の組織にあります：%(names)s")
            % {"names": "、".join(others)},
        )


@never_cache
def case_detail(request: HttpRequest, code: str) -> HttpResponse:
    case = selectors.get_visible_case(request.user, code)
    context = _detail_context(request, case)
    # The view event names the minutes the timeline showed (meetings' decisions, actions).
    record(Action.VIEW, obj=case, detail=selectors.timeline_shows(context["timeline"]))
    return render(request, "casework/case_detail.html", context)


def _detail_page(request: HttpRequest, case: Case, **extra) -> HttpResponse:
    """The case page again after a POST (a reveal, a refused form): its own event records
    the action; the minutes its timeline shows are a read of their own, audited here."""
    context = _detail_context(request, case, **extra)
    if shown := selectors.timeline_shows(context["timeline"]):
        record(Action.VIEW, obj=case, detail=shown)
    return render(request, "casework/case_detail.html", context)


def _detail_context(request: HttpRequest, case: Case, **extra) -> dict:
    access = cached_access(request.user, case)
    return {
        "case": case,
        # What the page offers follows the access kind (casework.access); the services
        # refuse the rest anyway.
        "can_write": access.allows(Capability.WRITE),
        "can_reveal": access.allows(Capability.IDENTITY),
        "can_print": (
            can_print := access.allows(Capability.EXPORT)
            and request.user.has_perm("casework.export_records")
        ),
        # Printing with the identity is an identity export (casework.exports.case_record).
        "can_print_identity": can_print
        and case.client_id is not None
        and access.allows(Capability.IDENTITY)
        and request.user.has_perms(["casework.export_identity", "casework.reveal_identity"]),
        "own_records_only": access.own_records_only,
        "timeline": (timeline := selectors.case_timeline(case, viewer=request.user)),
        # The contacts this viewer may correct (services.may_correct), for their links.
        "correctable": {
            entry.item.pk
            for entry in timeline
            if entry.kind == "contact"
            and access.allows(Capability.WRITE)
            and services.may_correct(request.user, entry.item)
        },
        "lead_workers": list(case.lead_workers.all()),
        "milestone_form": MilestoneForm(),
        "era_dates": False,  # the timeline's dates as on every screen (the print: 令和)
        **extra,
    }


@never_cache
@require_http_methods(["GET", "POST"])
def case_print(request: HttpRequest, code: str) -> HttpResponse:
    """The case's printable record (相談記録票), pseudonymous, with its timeline: visits,
    meeting decisions and the rest; an audited export. With the name (`?identity=1`):
    first the purpose, asked on a form and posted (never in the address), then the print
    (casework.exports.case_record: export_identity and a fresh step-up)."""
    user = signed_in(request)
    case = selectors.get_visible_case(user, code)
    identity = request.GET.get("identity") == "1"
    if identity and not user.has_perm("casework.export_identity"):
        raise PermissionDenied
    form = IdentityPrintForm(request.POST or None) if identity else None
    if form is not None and not form.is_valid():
        return render(
            request,
            "casework/case_print_purpose.html",
            {"case": case, "form": form},
            status=400 if request.method == "POST" else 200,
        )
    record = case_record(
        user,
        case,
        identity=identity,
        purpose=form.cleaned_data["purpose"] if form is not None else "",
        step_up=reauth.step_up_of(request),
    )
    return render(
        request,
        "casework/case_print.html",
        {"record": record, "no_links": set(), "era_dates": True},
    )


@never_cache
@require_POST
def identity_reveal(request: HttpRequest, code: str) -> HttpResponse:
    case = selectors.get_visible_case(request.user, code)
    identity = services.reveal_identity(request.user, case, step_up=reauth.step_up_of(request))
    if request.htmx:
        return render(request, "casework/_identity.html", {"case": case, "identity": identity})
    return _detail_page(request, case, identity=identity)


def _case_form_page(request: HttpRequest, case: Case, form, *, title: str, save, success: str):
    """One edit page: run `save()` on a valid POST; a stale edit or a refused value comes
    back on the form, nothing saved; success returns to the case."""
    if request.method == "POST" and form.is_valid():
        try:
            save()
        except services.StaleEdit as exc:
            form.add_error(None, exc.message)
        except ValidationError as exc:
            _form_errors_from(exc, form)
        else:
            messages.success(request, success)
            return redirect("casework:case_detail", code=case.code)
    return render(
        request, "casework/case_form_page.html", {"case": case, "form": form, "title": title}
    )


@never_cache
@require_http_methods(["GET", "POST"])
def case_edit(request: HttpRequest, code: str) -> HttpResponse:
    case = selectors.get_visible_case(request.user, code, capability=Capability.WRITE)
    initial = {f: getattr(case, f) for f in CaseEditForm.CASE} | {
        "status": case.status,
        "lead_workers": list(case.lead_workers.all()),
        "version": case.version,
    }
    if request.method == "GET":  # the form shows the case's summary: a read of content
        record(Action.VIEW, obj=case, detail={"page": "edit"})
    form = CaseEditForm(request.POST or None, case=case, initial=initial)

    def save() -> None:
        services.update_case(
            request.user,
            case,
            expected_version=form.cleaned_data["version"],
            changes=form.changes(),
            lead_workers=form.cleaned_data["lead_workers"],
            step_up=reauth.step_up_of(request),
        )

    try:
        return _case_form_page(
            request,
            case,
            form,
            title=_("ケースの編集"),
            success=_("ケースを更新しました。"),
            save=save,
        )
    except reauth.StepUpRequired:
        # A consent change needs a fresh step-up (accounts.policy, checked by the service):
        # confirm who is making it, then redo it.
        messages.warning(
            request,
            _("同意日を変更するには本人確認が必要です。確認のあと、もう一度変更してください。"),
        )
        return redirect(
            reverse("accounts:reauthenticate") + "?" + urlencode({"next": request.path})
        )


@never_cache
@require_http_methods(["GET", "POST"])
def identity_edit(request: HttpRequest, code: str) -> HttpResponse:
    case = selectors.get_visible_case(request.user, code, capability=Capability.WRITE)
    if case.client is None:
        messages.error(request, _("このケースには当事者が登録されていません。"))
        return redirect("casework:case_detail", code=case.code)
    if request.method == "POST":
        form = IdentityEditForm(request.POST)
    else:  # showing the identity to edit it is a reveal, audited, after a step-up
        identity = services.reveal_identity(
            request.user, case, step_up=reauth.step_up_of(request), for_edit=True
        )
        attributes = {f: getattr(case.client, f) for f in IdentityEditForm.ATTRIBUTES}
        form = IdentityEditForm(initial={**identity, **attributes, "version": case.client.version})
    return _case_form_page(
        request,
        case,
        form,
        title=_("当事者情報の編集"),
        success=_("当事者情報を更新しました。"),
        save=lambda: services.update_identity(
            request.user,
            case,
            expected_version=form.cleaned_data["version"],
            identity=form.identity(),
            attributes=form.attributes(),
            step_up=reauth.step_up_of(request),
        ),
    )


@never_cache
@require_http_methods(["GET", "POST"])
def case_close(request: HttpRequest, code: str) -> HttpResponse:
    case = selectors.get_visible_case(request.user, code, capability=Capability.WRITE)
    form = CloseForm(request.POST or None, initial={"version": case.version})
    return _case_form_page(
        request,
        case,
        form,
        title=_("ケースの終結"),
        success=_("ケースを終結しました。"),
        save=lambda: services.close_case(
            request.user,
            case,
            expected_version=form.cleaned_data["version"],
            reason=form.cleaned_data["reason"],
            closed_on=form.cleaned_data["closed_on"],
        ),
    )


@never_cache
@require_http_methods(["GET", "POST"])
def case_merge(request: HttpRequest, code: str) -> HttpResponse:
    keep = selectors.get_visible_case(request.user, code, capability=Capability.WRITE)
    form = MergeForm(request.POST or None, user=request.user, keep=keep)
    return _case_form_page(
        request,
        keep,
        form,
        title=_("重複ケースの統合"),
        success=_("ケースを統合しました。"),
        save=lambda: services.merge_cases(request.user, keep, absorbed=form.absorbed),
    )


@never_cache
@require_POST
def milestone_new(request: HttpRequest, code: str) -> HttpResponse:
    case = selectors.get_visible_case(request.user, code, capability=Capability.WRITE)
    form = MilestoneForm(request.POST)
    if form.is_valid():
        services.record_milestone(request.user, case, **form.cleaned_data)
        messages.success(request, _("到達状況を記録しました。"))
        return redirect("casework:case_detail", code=case.code)
    return _detail_page(request, case, milestone_form=form)


@never_cache
@require_POST
def follow_up_done(request: HttpRequest, pk: str) -> HttpResponse:
    contact = get_object_or_404(selectors.visible_contacts(request.user), pk=pk)
    services.complete_follow_up(request.user, contact)
    messages.success(request, _("対応済みにしました。"))
    return redirect("home")


@never_cache
@require_http_methods(["GET", "POST"])
def break_glass(request: HttpRequest) -> HttpResponse:
    """緊急アクセス: ask to read a case outside one's access, on a reason (the policy:
    casework.services.break_glass)."""
    form = BreakGlassForm(request.POST or None, initial={"code": request.GET.get("code", "")})
    if request.method == "POST" and form.is_valid():
        try:
            grant = services.break_glass(
                request.user,
                form.cleaned_data["code"],
                category=form.cleaned_data["category"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            _form_errors_from(exc, form)
        else:
            if grant.approved_at is not None and grant.case_id is not None:
                messages.warning(
                    request,
                    _(
                        "緊急アクセスを開始しました（%(minutes)d分間、閲覧のみ）。"
                        "スーパーバイザーに通知され、確認されます。"
                    )
                    % {"minutes": settings.BREAK_GLASS_MINUTES},
                )
                return redirect("casework:case_detail", code=grant.case.code)
            messages.info(
                request,
                _(
                    "申請を記録しました。対象のケースの組織のスーパーバイザーが承認した場合に限り、"
                    "閲覧できるようになり、メールでお知らせします。"
                ),
            )
            return redirect("casework:break_glass")
    return render(
        request,
        "casework/break_glass.html",
        {"form": form, "mine": selectors.my_break_glass(request.user)},
    )


@never_cache
@require_http_methods(["GET", "POST"])
def break_glass_review(request: HttpRequest) -> HttpResponse:
    """Supervisors: approve or refuse other organisations' requests for their cases, and
    review the emergency accesses that ran."""
    if request.method == "POST":
        grant = request.POST.get("grant", "")
        if not (grant.isascii() and grant.isdigit()):  # not "²", which int() refuses
            raise Http404
        decision = request.POST.get("decision", "review")
        if decision == "approve":
            services.approve_break_glass(request.user, int(grant))
            messages.success(request, _("緊急アクセスを承認しました。"))
        elif decision == "refuse":
            services.refuse_break_glass(request.user, int(grant))
            messages.success(request, _("緊急アクセスの申請を却下しました。"))
        else:
            services.review_break_glass(request.user, int(grant), note=request.POST.get("note", ""))
            messages.success(request, _("緊急アクセスを確認済みにしました。"))
        return redirect("casework:break_glass_review")
    queue = selectors.break_glass_queue(request.user).order_by("approved_at")[:200]
    requests = selectors.break_glass_requests(request.user).order_by("requested_at")[:200]
    return render(
        request,
        "casework/break_glass_review.html",
        {
            "queue": queue,
            "requests": requests,
            "now": timezone.now(),
            "own_organisation": request.user.organisation_id,
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
def access_review(request: HttpRequest) -> HttpResponse:
    """Who in the organisation opened or revealed which case in a period (default: the
    last 30 days), flagged; marking the period reviewed is audited."""
    today = timezone.localdate()
    form = AccessReviewForm(
        request.GET or {"start": today - datetime.timedelta(days=30), "end": today}
    )
    if not form.is_valid():
        return render(request, "casework/access_review.html", {"form": form}, status=400)
    start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    if request.method == "POST":
        access_reviews.mark_reviewed(request.user, start, end, request.POST.get("note", ""))
        messages.success(request, _("この期間のアクセスをレビュー済みにしました。"))
        return redirect(f"{request.path}?start={start}&end={end}")
    result = access_reviews.review(request.user, start, end)
    return render(request, "casework/access_review.html", {"form": form, "review": result})
