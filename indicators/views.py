"""Plan reports, verification sheets, metric breakdowns and their exports.
Access: config/access.py. Figures are exact only for the owning organisation's holders of
indicators.view_exact_figures; everyone else gets them with small cells hidden."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import Organisation
from audit.models import Action
from audit.services import record
from tabular import Table, to_csv, to_xlsx

from . import charts, metrics, services
from .forms import IndicatorYearForm, MetricQueryForm, ReportPeriodForm, SubmitForm
from .models import Assessment, Indicator, ManualValue, Plan, Snapshot, Target
from .periods import era_label
from .reports import metric_breakdown, progress_report

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def exact_for_plan(user, plan: Plan) -> bool:
    return user.has_perm("indicators.view_exact_figures") and services.owns(user, plan)


def exact_for_scope(user, scope: metrics.Scope) -> bool:
    """Own organisation's figures; region- and prefecture-wide figures belong to the
    prefectural centre."""
    if not user.has_perm("indicators.view_exact_figures") or user.organisation is None:
        return False
    if scope.kind == metrics.Scope.ORGANISATION:
        return scope.organisation_id == user.organisation_id
    return user.organisation.kind == Organisation.Kind.PREFECTURE_CENTRE


@never_cache
def plan_list(request: HttpRequest) -> HttpResponse:
    plans = Plan.objects.select_related("organisation").order_by("-last_year", "name")
    return render(
        request,
        "indicators/plan_list.html",
        {"plans": plans, "metrics": list(metrics.REGISTRY.values())},
    )


def _period_form(request: HttpRequest, plan: Plan) -> ReportPeriodForm:
    data = request.GET.copy()
    if "year" not in data:
        data["year"] = str(ReportPeriodForm.default_year(plan.first_year - 2, plan.last_year))
    return ReportPeriodForm(data, first_year=plan.first_year - 2, last_year=plan.last_year)


def _report_or_errors(request: HttpRequest, plan: Plan):
    form = _period_form(request, plan)
    if not form.is_valid():
        return form, None
    year, as_of = form.period()
    report = progress_report(plan, year, as_of, exact=exact_for_plan(request.user, plan))
    return form, report


def _progress_table(request: HttpRequest, report) -> Table:
    table = report.table()
    query = urlencode({"year": report.year})
    table.links = [
        reverse("indicators:sheet", args=[report.plan.pk, row.indicator.pk]) + "?" + query
        for row in report.rows
    ]
    return table


@never_cache
def progress(request: HttpRequest, pk: int) -> HttpResponse:
    plan = get_object_or_404(Plan.objects.select_related("organisation", "scope_region"), pk=pk)
    form, report = _report_or_errors(request, plan)
    context = {"plan": plan, "form": form, "report": report}
    if report is None:
        return render(request, "indicators/progress.html", context, status=400)
    context["table"] = _progress_table(request, report)
    context["chart"] = charts.achievement_chart(
        [
            (f"{row.indicator.code} {row.indicator.name}", row.ratio_shown, row.achieved.suppressed)
            for row in report.rows
            if row.target is not None
        ],
        title=_("達成割合（%）"),
    )
    context["can_submit"] = request.user.has_perm("indicators.submit_report") and services.owns(
        request.user, plan
    )
    context["submit_form"] = SubmitForm(initial={"year": report.year, "as_of": report.period.end})
    context["query"] = urlencode({"year": report.year, "as_of": report.period.end.isoformat()})
    return render(request, "indicators/progress.html", context)


@never_cache
def progress_export(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    if fmt not in FORMATS:
        raise Http404
    plan = get_object_or_404(Plan, pk=pk)
    form, report = _report_or_errors(request, plan)
    if report is None:
        return _bad_query(form)
    table = report.table()
    filename = f"progress_{plan.pk}_{report.year}_{report.period.end:%Y%m%d}.{fmt}"
    return _export(request, [table], fmt, filename, plan, report.exact)


def _bad_query(form) -> HttpResponse:
    return HttpResponse(
        _("集計の条件が正しくありません：%(errors)s") % {"errors": form.errors.as_text()},
        status=400,
        content_type="text/plain; charset=utf-8",
    )


def _export(
    request, tables: list[Table], fmt: str, filename: str, obj, exact: bool
) -> HttpResponse:
    body = to_csv(tables) if fmt == "csv" else to_xlsx(tables, tables[0].title)
    record(
        Action.EXPORT,
        object_type=obj._meta.label if hasattr(obj, "_meta") else "indicators.Metric",
        object_ref=str(getattr(obj, "pk", obj)),
        detail={"format": fmt, "file": filename, "suppressed": not exact},
    )
    response = HttpResponse(body, content_type=FORMATS[fmt])
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@never_cache
def progress_print(request: HttpRequest, pk: int) -> HttpResponse:
    plan = get_object_or_404(Plan, pk=pk)
    form, report = _report_or_errors(request, plan)
    if report is None:
        return _bad_query(form)
    record(
        Action.EXPORT,
        obj=plan,
        detail={"format": "print", "year": report.year, "suppressed": not report.exact},
    )
    return render(
        request,
        "indicators/print.html",
        {"tables": [report.table()], "printed_at": timezone.localtime()},
    )


@never_cache
@require_POST
def submit(request: HttpRequest, pk: int) -> HttpResponse:
    plan = get_object_or_404(Plan, pk=pk)
    form = SubmitForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("提出の内容が正しくありません。"))
        return redirect("indicators:progress", pk=plan.pk)
    year, as_of = form.cleaned_data["year"], form.cleaned_data["as_of"]
    try:
        snapshot = services.submit_report(
            request.user, plan, year, as_of, note=form.cleaned_data["note"]
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("indicators:progress", pk=plan.pk)
    except ValueError as error:
        messages.error(request, str(error))
        return redirect("indicators:progress", pk=plan.pk)
    messages.success(
        request,
        _("%(year)s（%(as_of)s現在）の進捗報告を提出しました。数値は提出時のまま保存されます。")
        % {"year": era_label(year), "as_of": snapshot.as_of.strftime("%Y/%m/%d")},
    )
    return redirect("indicators:snapshot", pk=snapshot.pk)


@never_cache
def snapshot_detail(request: HttpRequest, pk: int) -> HttpResponse:
    snapshot = get_object_or_404(Snapshot.objects.select_related("plan", "submitted_by"), pk=pk)
    exact = exact_for_plan(request.user, snapshot.plan)
    data = snapshot.figures["table"] if exact else snapshot.figures["public_table"]
    return render(
        request,
        "indicators/snapshot.html",
        {"snapshot": snapshot, "table": Table.from_json(data), "plan": snapshot.plan},
    )


def _indicator(plan_pk: int, pk: int) -> Indicator:
    return get_object_or_404(
        Indicator.objects.select_related("direction__plan__organisation"),
        pk=pk,
        direction__plan_id=plan_pk,
    )


@never_cache
def sheet(request: HttpRequest, plan_pk: int, pk: int) -> HttpResponse:
    """検証票: Plan (yearly targets), Do (actuals, A/B, status), Check, Action."""
    indicator = _indicator(plan_pk, pk)
    plan = indicator.direction.plan
    form, report = _report_or_errors(request, plan)
    if report is None:
        return render(
            request,
            "indicators/sheet.html",
            {"plan": plan, "indicator": indicator, "form": form},
            status=400,
        )
    row = next(r for r in report.rows if r.indicator.pk == indicator.pk)
    targets = {t.fiscal_year: t.value for t in Target.objects.filter(indicator=indicator)}
    yearly, running = [], 0
    for y in plan.years:
        value = targets.get(y)
        if value is not None:
            running += value
        yearly.append(
            (
                era_label(y),
                value,
                running if indicator.is_cumulative and value is not None else None,
            )
        )
    return render(
        request,
        "indicators/sheet.html",
        {
            "plan": plan,
            "indicator": indicator,
            "form": form,
            "report": report,
            "row": row,
            "yearly": yearly,
            "can_edit": services.owns(request.user, plan)
            and request.user.has_perm("indicators.change_assessment"),
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
def indicator_edit(request: HttpRequest, plan_pk: int, pk: int) -> HttpResponse:
    indicator = _indicator(plan_pk, pk)
    plan = indicator.direction.plan
    if not services.owns(request.user, plan):
        raise PermissionDenied
    try:
        year = int(
            request.GET.get("year")
            or ReportPeriodForm.default_year(plan.first_year, plan.last_year)
        )
    except ValueError:
        year = ReportPeriodForm.default_year(plan.first_year, plan.last_year)
    if year not in plan.years:
        raise Http404
    target = Target.objects.filter(indicator=indicator, fiscal_year=year).first()
    manual = ManualValue.objects.filter(indicator=indicator, fiscal_year=year).first()
    assessment = Assessment.objects.filter(indicator=indicator, fiscal_year=year).first()
    initial = {
        "target": target.value if target else None,
        "manual_value": manual.value if manual else None,
        "source_note": manual.source_note if manual else "",
    }
    if assessment:
        for key in (
            "status_override",
            "override_reason",
            "progress_basis",
            "check_text",
            "action_text",
        ):
            initial[key] = getattr(assessment, key)
    form = IndicatorYearForm(request.POST or None, initial=initial, manual=indicator.is_manual)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.save_indicator_year(
                request.user,
                indicator,
                year,
                target=data.get("target"),
                manual_value=data.get("manual_value"),
                source_note=data.get("source_note", ""),
                status_override=data.get("status_override", ""),
                override_reason=data.get("override_reason", ""),
                progress_basis=data.get("progress_basis", ""),
                check_text=data.get("check_text", ""),
                action_text=data.get("action_text", ""),
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("%(year)s分を保存しました。") % {"year": era_label(year)})
            return redirect(
                reverse("indicators:sheet", args=[plan.pk, indicator.pk]) + f"?year={year}"
            )
    return render(
        request,
        "indicators/indicator_form.html",
        {
            "plan": plan,
            "indicator": indicator,
            "year": year,
            "year_label": era_label(year),
            "form": form,
        },
    )


def _metric(key: str) -> metrics.Metric:
    try:
        return metrics.get(key)
    except ValueError:
        raise Http404 from None


def _metric_form(request: HttpRequest, metric: metrics.Metric) -> MetricQueryForm:
    this_year = ReportPeriodForm.default_year(2000, 2100)
    data = request.GET.copy()
    data.setdefault("year", str(this_year))
    data.setdefault("scope", metrics.Scope.PREFECTURE)
    return MetricQueryForm(data, first_year=this_year - 5, last_year=this_year, metric=metric)


@never_cache
def metric_detail(request: HttpRequest, key: str) -> HttpResponse:
    metric = _metric(key)
    form = _metric_form(request, metric)
    context = {"metric": metric, "form": form}
    if not form.is_valid():
        return render(request, "indicators/metric.html", context, status=400)
    cell, scope = form.cell(), form.scope_value()
    result = metric_breakdown(cell, scope, exact=exact_for_scope(request.user, scope))
    context.update(
        {
            "result": result,
            "chart": charts.column_chart(
                [
                    (f"{month.month}月", None if figure.suppressed else figure.value)
                    for month, figure in result.monthly
                ],
                title=_("月別の推移"),
                unit=str(metric.unit),
            )
            if 1 < len(result.monthly) <= 24
            else None,
            "query": request.GET.urlencode(),
            "period_label": cell.period.label(),
        }
    )
    return render(request, "indicators/metric.html", context)


@never_cache
def metric_export(request: HttpRequest, key: str, fmt: str) -> HttpResponse:
    if fmt not in FORMATS:
        raise Http404
    metric = _metric(key)
    form = _metric_form(request, metric)
    if not form.is_valid():
        return _bad_query(form)
    cell, scope = form.cell(), form.scope_value()
    exact = exact_for_scope(request.user, scope)
    result = metric_breakdown(cell, scope, exact=exact)
    filename = f"{metric.key}_{cell.period.start:%Y%m%d}_{cell.period.end:%Y%m%d}.{fmt}"
    return _export(request, [t for _d, t in result.tables], fmt, filename, metric.key, exact)
