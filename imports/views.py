"""Import screens: upload → column mapping → check (dry run) → import. Access: config/access.py.

The file is read once, by the upload form; the later steps use the rows kept with the
upload (`PendingUpload.sheet()`)."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts.access import signed_in

from . import selectors, services
from .forms import ConfirmForm, MappingForm, UploadForm


@never_cache
@require_http_methods(["GET", "POST"])
def upload(request: HttpRequest) -> HttpResponse:
    form = UploadForm(
        request.POST or None,
        request.FILES or None,
        request_size=int(request.META.get("CONTENT_LENGTH") or 0),
    )
    if request.method == "POST" and form.is_valid():
        pending = services.store_upload(
            signed_in(request),
            kind=form.cleaned_data["kind"],
            file_name=form.cleaned_data["file"].name,
            data=form.content,
            sheet=form.sheet,
        )
        return redirect("imports:mapping", pk=pending.pk)
    recent = selectors.organisation_batches(signed_in(request))[:10]
    return render(request, "imports/upload.html", {"form": form, "recent": recent})


@never_cache
@require_http_methods(["GET", "POST"])
def mapping(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    user = signed_in(request)
    pending = selectors.pending_upload(user, pk)
    sheet = pending.sheet()  # as read at the upload
    initial = pending.columns or services.suggest_mapping(user, sheet, kind=pending.kind)
    form = MappingForm(
        request.POST or None,
        kind=pending.kind,
        columns=sheet.columns,
        initial_mapping=initial,
        samples=services.column_samples(sheet, kind=pending.kind, mapping=initial),
    )
    if request.method == "POST" and form.is_valid():
        services.choose_mapping(user, pending, mapping=form.mapping())
        return redirect("imports:review", pk=pending.pk)
    return render(
        request,
        "imports/mapping.html",
        {"form": form, "pending": pending, "rows": len(sheet.rows), "format": sheet.format},
    )


@never_cache
@require_http_methods(["GET", "POST"])
def review(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    user = signed_in(request)
    pending = selectors.pending_upload(user, pk)
    if not pending.columns:
        return redirect("imports:mapping", pk=pending.pk)
    sheet = pending.sheet()  # as read at the upload
    form = ConfirmForm(request.POST if request.method == "POST" else None)
    result = None
    try:
        if request.method == "POST" and form.is_valid():
            try:
                batch = services.import_sheet(
                    user,
                    sheet,
                    kind=pending.kind,
                    mapping=pending.columns,
                    file_name=pending.file_name,
                    sha256=pending.file_sha256,
                    force=form.cleaned_data["force"],
                )
            except services.AlreadyImported as exc:
                form.add_error("force", str(exc))
            except services.ImportRefused as exc:
                result = exc.check
            else:
                services.discard_upload(pending)
                messages.success(request, _("取り込みが完了しました。"))
                return redirect("imports:done", pk=batch.pk)
        if result is None:
            result = services.check(
                user,
                sheet,
                kind=pending.kind,
                mapping=pending.columns,
                sha256=pending.file_sha256,
            )
    except services.MappingInvalid as exc:  # the saved choices no longer fit the file
        for problem in exc.problems:
            messages.error(request, problem)
        return redirect("imports:mapping", pk=pending.pk)
    previous = result.previous and services.previously_imported_message(result.previous)
    return render(
        request,
        "imports/review.html",
        {"pending": pending, "result": result, "form": form, "previous": previous},
    )


@require_POST
def cancel(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    services.discard_upload(selectors.pending_upload(signed_in(request), pk))
    messages.info(request, _("取り込みを中止し、アップロードしたファイルを削除しました。"))
    return redirect("imports:upload")


@never_cache
def done(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    return render(request, "imports/done.html", {"batch": selectors.batch(signed_in(request), pk)})
