"""The auditors' browser: filter events by person, object, action and period, verify the
chain from the page, export the selection as CSV (itself audited) through the one table
renderer, tabular, which escapes formulas. Events hold ids, codes and reasons, never
decrypted content. Access: config/access.py."""

from __future__ import annotations

import datetime
import json

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from config.database import longer_statement_timeout
from tabular import Table, to_csv

from . import selectors
from .models import Action, Event
from .services import record, verify_chain


class EventFilter(forms.Form):
    actor = forms.CharField(
        label=gettext_lazy("操作者（ユーザー名）"), required=False, max_length=150
    )
    object_ref = forms.CharField(
        label=gettext_lazy("対象（ケースコード等）"), required=False, max_length=100
    )
    action = forms.ChoiceField(
        label=gettext_lazy("操作"), required=False, choices=[("", "—"), *Action.choices]
    )
    start = forms.DateField(
        label=gettext_lazy("開始日"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=gettext_lazy("終了日"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self) -> dict:
        data = super().clean()
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            self.add_error("end", _("終了日は開始日以降にしてください。"))
        return data

    def events(self, events: QuerySet[Event]) -> QuerySet[Event]:
        """`events` narrowed to the filter's person, object, action and period."""
        data = self.cleaned_data
        if data.get("actor"):
            events = events.filter(actor_label=data["actor"])
        if data.get("object_ref"):
            events = events.filter(object_ref=data["object_ref"].strip())
        if data.get("action"):
            events = events.filter(action=data["action"])
        tz = timezone.get_current_timezone()
        if data.get("start"):
            events = events.filter(
                occurred_at__gte=datetime.datetime.combine(data["start"], datetime.time.min, tz)
            )
        if data.get("end"):
            events = events.filter(
                occurred_at__lt=datetime.datetime.combine(
                    data["end"] + datetime.timedelta(days=1), datetime.time.min, tz
                )
            )
        return events


@never_cache
def browser(request: HttpRequest) -> HttpResponse:
    form = EventFilter(request.GET or None)
    events = selectors.auditable_events(request.user)
    if request.GET:
        events = form.events(events) if form.is_valid() else events.none()
    page = Paginator(events, 100).get_page(request.GET.get("page"))
    return render(
        request,
        "audit/browser.html",
        {"form": form, "page": page, "query": request.GET.urlencode()},
        status=400 if request.GET and not form.is_valid() else 200,
    )


@never_cache
@longer_statement_timeout()  # up to 50,000 events
def export(request: HttpRequest) -> HttpResponse:
    form = EventFilter(request.GET or None)
    if request.GET and not form.is_valid():
        return HttpResponse(
            _("条件が正しくありません：%(errors)s") % {"errors": form.errors.as_text()},
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    events = selectors.auditable_events(request.user)
    if request.GET:
        events = form.events(events)
    rows = list(events[:50000])
    filters = {k: v for k, v in request.GET.items() if k != "page"}
    record(
        Action.EXPORT,
        object_type="audit.Event",
        object_ref="selection",
        detail={"filters": filters, "rows": len(rows)},
    )
    table = _events_table(request, rows, filters)
    response = HttpResponse(to_csv([table]), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="audit_events.csv"'
    return response


def _events_table(request: HttpRequest, rows: list[Event], filters: dict) -> Table:
    """The exported selection: who exported it, when and with which filters, then a row
    per event (ids, codes and reasons, never decrypted content)."""
    return Table(
        title=_("監査イベント"),
        heading=[
            _("出力日時：%(when)s　出力者：%(who)s")
            % {
                "when": timezone.localtime().strftime("%Y-%m-%d %H:%M"),
                "who": request.user.username,
            },
            _("抽出条件：%(filters)s")
            % {"filters": json.dumps(filters, ensure_ascii=False) if filters else _("なし")},
        ],
        columns=[
            _("通番"),
            _("日時"),
            _("操作"),
            _("操作者"),
            _("組織ID"),
            _("対象種別"),
            _("対象"),
            _("詳細"),
            _("接続元"),
            "hash",
        ],
        rows=[
            [
                e.seq,
                timezone.localtime(e.occurred_at).isoformat(),
                e.action,
                e.actor_label,
                e.organisation_id,
                e.object_type,
                e.object_ref,
                json.dumps(e.detail, ensure_ascii=False),
                e.source_ip,
                e.hash,
            ]
            for e in rows
        ],
    )


@never_cache
@require_POST
def verify(request: HttpRequest) -> HttpResponse:
    result = verify_chain()
    if result.ok:
        messages.success(
            request,
            _("監査証跡は改ざんされていません（%(n)d件、最新の通番 %(seq)s）。")
            % {"n": result.checked, "seq": result.head_seq},
        )
    else:
        messages.error(
            request,
            _("監査証跡に不整合があります：通番 %(seq)s（%(problem)s）。")
            % {"seq": result.first_bad_seq, "problem": result.problem},
        )
    record(Action.VIEW, object_type="audit.Event", object_ref="verify", detail={"ok": result.ok})
    return redirect("audit:browser")
