"""Plan structure (plans, directions, indicators, targets) is master data an administrator
keeps; figures, assessments and submissions are entered on the report screens."""

from django import forms
from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from accounts.admin_audit import AuditedAdminMixin

from . import metrics
from .models import Direction, Indicator, Plan, Target


class DirectionInline(admin.TabularInline):
    model = Direction
    extra = 0


@admin.register(Plan)
class PlanAdmin(AuditedAdminMixin, SimpleHistoryAdmin):
    list_display = ("name", "organisation", "first_year", "last_year", "scope_kind")
    list_filter = ("scope_kind",)
    inlines = [DirectionInline]


class IndicatorForm(forms.ModelForm):
    metric = forms.ChoiceField(
        label=Indicator._meta.get_field("metric").verbose_name,
        required=False,
        choices=(),
        help_text=Indicator._meta.get_field("metric").help_text,
    )

    class Meta:
        model = Indicator
        fields = [
            "direction",
            "code",
            "name",
            "activity",
            "unit",
            "counting",
            "metric",
            "metric_params",
            "organisation",
            "accumulation",
            "cap_ratio",
            "baseline",
            "baseline_label",
            "sort_order",
        ]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["metric"].choices = [("", "—（手入力）")] + [
            (key, str(metric.label)) for key, metric in metrics.REGISTRY.items()
        ]


class TargetInline(admin.TabularInline):
    model = Target
    extra = 0


@admin.register(Indicator)
class IndicatorAdmin(AuditedAdminMixin, SimpleHistoryAdmin):
    form = IndicatorForm
    list_display = ("code", "name", "direction", "metric", "accumulation", "cap_ratio")
    list_filter = ("direction__plan", "accumulation")
    inlines = [TargetInline]
