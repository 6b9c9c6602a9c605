"""Plan reports, verification sheets, metric breakdowns and their exports.
Access: config/access.py. Which plans: indicators.selectors; who gets exact figures and
who works on a plan: indicators.policy (the selectors and services ask it; views render)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts.access import signed_in
from audit.models import Action
from audit.services import record
from tabular import Table, to_csv, to_xlsx

from . import charts, metrics, policy, selectors, services
from .disclosure.publication import NotPublished
from .forms import IndicatorYearForm, MetricQueryForm, ReportPeriodForm, SubmitForm
from .models import Plan
from .periods import era_label

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@never_cache
def plan_list(request: HttpRequest) -> HttpResponse:
    plans = selectors.plans(signed_in(request))
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
    try:
        return form, selectors.plan_report(signed_in(request), plan, year=year, as_of=as_of)
    except NotPublished as refusal:  # a question the publications do not answer
        form.add_error(None, refusal.message)
        return form, None


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
    user = signed_in(request)
    plan = selectors.plan_for(user, pk, related=("organisation", "scope_region"))
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
    context["can_submit"] = policy.may_submit(user, plan)
    context["submit_form"] = SubmitForm(initial={"year": report.year, "as_of": report.period.end})
    context["query"] = urlencode({"year": report.year, "as_of": report.period.end.isoformat()})
    return render(request, "indicators/progress.html", context)


@never_cache
def progress_export(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    if fmt not in FORMATS:
        raise Http404
    plan = selectors.plan_for(signed_in(request), pk)
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
    plan = selectors.plan_for(signed_in(request), pk)
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
    user = signed_in(request)
    plan = selectors.plan_for(user, pk)
    form = SubmitForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("提出の内容が正しくありません。"))
        return redirect("indicators:progress", pk=plan.pk)
    year, as_of = form.cleaned_data["year"], form.cleaned_data["as_of"]
    try:
        snapshot = services.submit_report(
            user, plan, year=year, as_of=as_of, note=form.cleaned_data["note"]
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
    user = signed_in(request)
    snapshot = selectors.snapshot_for(user, pk)
    table = selectors.snapshot_table(user, snapshot)
    return render(
        request,
        "indicators/snapshot.html",
        {"snapshot": snapshot, "table": table, "plan": snapshot.plan},
    )


@never_cache
def sheet(request: HttpRequest, plan_pk: int, pk: int) -> HttpResponse:
    """検証票: Plan (yearly targets), Do (actuals, A/B, status), Check, Action."""
    user = signed_in(request)
    indicator = selectors.indicator_for(user, pk, plan_pk=plan_pk)
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
    yearly = [
        (era_label(year), value, cumulative)
        for year, value, cumulative in selectors.yearly_targets(indicator)
    ]
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
            "can_edit": policy.may_assess(user, plan),
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
def indicator_edit(request: HttpRequest, plan_pk: int, pk: int) -> HttpResponse:
    user = signed_in(request)
    indicator = selectors.indicator_for(user, pk, plan_pk=plan_pk)
    plan = indicator.direction.plan
    if not policy.may_assess(user, plan):
        raise PermissionDenied
    year = _edited_year(request, plan)
    form = IndicatorYearForm(
        request.POST or None,
        initial=selectors.indicator_year(indicator, year=year),
        manual=indicator.is_manual,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.save_indicator_year(
                user,
                indicator,
                year=year,
                target=data.get("target"),
                manual_value=data.get("manual_value"),
                source_note=data.get("source_note", ""),
                **{key: data.get(key, "") for key in selectors.ASSESSMENT_FIELDS},
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


def _edited_year(request: HttpRequest, plan: Plan) -> int:
    """The fiscal year asked for (default: the current one within the plan); 404 outside
    the plan's years."""
    default = ReportPeriodForm.default_year(plan.first_year, plan.last_year)
    try:
        year = int(request.GET.get("year") or default)
    except ValueError:
        year = default
    if year not in plan.years:
        raise Http404
    return year


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
    cell = form.cell()
    try:
        result, _exact = selectors.metric_figures(
            signed_in(request), cell, scope=form.scope_value()
        )
    except NotPublished as refusal:  # not yet published: a fair question, no answer yet
        form.add_error(None, refusal.message)
        status = 200 if refusal.missing else 400
        return render(request, "indicators/metric.html", context, status=status)
    cell = result.cell  # a publication's cut when the figures are published ones
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
    try:
        result, exact = selectors.metric_figures(
            signed_in(request), form.cell(), scope=form.scope_value()
        )
    except NotPublished as refusal:
        if refusal.missing:
            return HttpResponse(
                refusal.message, status=404, content_type="text/plain; charset=utf-8"
            )
        form.add_error(None, refusal.message)
        return _bad_query(form)
    cell = result.cell
    filename = f"{metric.key}_{cell.period.start:%Y%m%d}_{cell.period.end:%Y%m%d}.{fmt}"
    return _export(request, [t for _d, t in result.tables], fmt, filename, metric.key, exact)
