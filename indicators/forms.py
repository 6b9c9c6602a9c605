"""Report parameters (GET) and the supervisor's yearly entry for one indicator."""

from __future__ import annotations

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Organisation, Region

from . import metrics
from .models import Status
from .periods import Period, era_label, fiscal_year


def year_choices(first: int, last: int) -> list[tuple[int, str]]:
    return [(y, f"{era_label(y)}（{y}）") for y in range(last, first - 1, -1)]


class ReportPeriodForm(forms.Form):
    """Fiscal year and an optional "as of" date inside it."""

    year = forms.TypedChoiceField(label=_("年度"), coerce=int, choices=())
    as_of = forms.DateField(
        label=_("基準日（○月末現在など）"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("空欄の場合は年度末まで（今年度は今日まで）です。"),
    )

    def __init__(self, *args, first_year: int, last_year: int, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = year_choices(first_year, last_year)

    @staticmethod
    def default_year(first: int, last: int) -> int:
        return min(max(fiscal_year(timezone.localdate()), first), last)

    def clean(self) -> dict:
        data = super().clean()
        year, as_of = data.get("year"), data.get("as_of")
        if year is not None and as_of is not None:
            start, end = Period.fiscal(year).start, Period.fiscal(year).end
            if not start <= as_of <= end:
                self.add_error("as_of", _("基準日は選んだ年度の中の日付にしてください。"))
        return data

    def period(self) -> tuple[int, datetime.date | None]:
        """(year, as-of date); the as-of defaults to today inside the current year."""
        year, as_of = self.cleaned_data["year"], self.cleaned_data.get("as_of")
        if as_of is None:
            today = timezone.localdate()
            if Period.fiscal(year).start <= today <= Period.fiscal(year).end:
                as_of = today
        return year, as_of


class MetricQueryForm(ReportPeriodForm):
    """A metric over a fiscal year (up to a date) or any range, in a scope, with the
    metric's own parameters as multiple choices."""

    start = forms.DateField(
        label=_("期間の開始日"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=_("期間の終了日"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("開始日と終了日を入れると、年度の代わりにその期間で集計します。"),
    )
    scope = forms.ChoiceField(
        label=_("集計範囲"),
        choices=[
            (metrics.Scope.PREFECTURE, _("県全体")),
            (metrics.Scope.REGION, _("圏域")),
            (metrics.Scope.ORGANISATION, _("組織")),
        ],
        initial=metrics.Scope.PREFECTURE,
    )
    region = forms.ModelChoiceField(label=_("圏域"), queryset=Region.objects.all(), required=False)
    organisation = forms.ModelChoiceField(
        label=_("組織"), queryset=Organisation.objects.filter(is_active=True), required=False
    )

    def __init__(self, *args, metric: metrics.Metric, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.metric = metric
        for param, _path in metric.params:
            self.fields[f"p_{param.key}"] = forms.MultipleChoiceField(
                label=param.label,
                choices=[(k, v) for k, v in param.choices.items()],
                required=False,
                widget=forms.CheckboxSelectMultiple,
            )

    def clean(self) -> dict:
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if bool(start) != bool(end):
            self.add_error("end", _("期間で集計する場合は開始日と終了日の両方を入れてください。"))
        elif start and end and end < start:
            self.add_error("end", _("終了日は開始日以降にしてください。"))
        elif start and end and (end - start).days > 366 * 5:
            self.add_error("end", _("期間は5年以内にしてください。"))
        elif start and end and not (start.year >= 1900 and end.year <= 2999):
            self.add_error("start", _("期間は1900年から2999年の間で指定してください。"))
        for param, _path in self.metric.params:  # a threshold takes one value (N日以内)
            if param.single and len(data.get(f"p_{param.key}") or []) > 1:
                self.add_error(f"p_{param.key}", _("1つだけ選んでください。"))
        if data.get("scope") == metrics.Scope.REGION and not data.get("region"):
            self.add_error("region", _("圏域を選んでください。"))
        if data.get("scope") == metrics.Scope.ORGANISATION and not data.get("organisation"):
            self.add_error("organisation", _("組織を選んでください。"))
        return data

    def scope_value(self) -> metrics.Scope:
        kind = self.cleaned_data["scope"]
        if kind == metrics.Scope.REGION:
            return metrics.Scope(kind, region_id=self.cleaned_data["region"].pk)
        if kind == metrics.Scope.ORGANISATION:
            return metrics.Scope(kind, organisation_id=self.cleaned_data["organisation"].pk)
        return metrics.Scope()

    def cell(self) -> metrics.Cell:
        data = self.cleaned_data
        if data.get("start") and data.get("end"):
            period = Period(data["start"], data["end"])
        else:
            year, as_of = self.period()
            period = Period.fiscal(year, as_of)
        params = {
            param.key: data.get(f"p_{param.key}") or []
            for param, _path in self.metric.params
            if data.get(f"p_{param.key}")
        }
        return metrics.Cell.of(self.metric.key, params, period)


class IndicatorYearForm(forms.Form):
    target = forms.DecimalField(
        label=_("目標値（この年度分）"),
        required=False,
        min_value=0,
        max_digits=14,
        decimal_places=2,
        help_text=_("累計の指標では、この年度に上積みする分を入れます。累計は自動で計算します。"),
    )
    manual_value = forms.DecimalField(
        label=_("実績値（手入力）"), required=False, min_value=0, max_digits=14, decimal_places=2
    )
    source_note = forms.CharField(label=_("出典・根拠"), required=False, max_length=300)
    status_override = forms.ChoiceField(
        label=_("進捗状況（手動で判定する場合）"),
        required=False,
        choices=[("", _("自動判定のまま")), *list(Status.choices)],
    )
    override_reason = forms.CharField(
        label=_("手動判定の理由"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    progress_basis = forms.CharField(
        label=_("進捗状況の判定根拠、要因及び取組の効果"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    check_text = forms.CharField(
        label=_("取組の検証（Check）"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    action_text = forms.CharField(
        label=_("取組の改善案（Action）"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, manual: bool, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not manual:
            del self.fields["manual_value"]
            del self.fields["source_note"]

    def clean(self) -> dict:
        data = super().clean()
        if data.get("manual_value") is not None and not (data.get("source_note") or "").strip():
            self.add_error("source_note", _("手入力の実績値には出典・根拠を入れてください。"))
        if data.get("status_override") and not (data.get("override_reason") or "").strip():
            self.add_error("override_reason", _("手動で判定する場合は理由を入力してください。"))
        return data


class SubmitForm(forms.Form):
    year = forms.IntegerField(widget=forms.HiddenInput)
    as_of = forms.DateField(widget=forms.HiddenInput)
    note = forms.CharField(label=_("備考"), required=False, max_length=300)
