"""Outreach forms."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from casework.access import Capability
from casework.forms import DateInput, DateTimeInput
from casework.models import MINUTES_IN_A_DAY, Case, Consulter
from casework.selectors import find_visible_case

from .models import Session, Visit
from .selectors import visit_workers


class VisitPlanForm(forms.Form):
    case_code = forms.CharField(label=_("ケースコード"), max_length=12)
    kind = forms.ChoiceField(label=_("種別"), choices=Visit.Kind.choices)
    destination = forms.ChoiceField(label=_("行き先"), choices=Visit.Destination.choices)
    purpose = forms.CharField(
        label=_("目的"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("例：主治医への受診同行、本人と初めて会う。"),
    )
    planned_start = forms.DateTimeField(label=_("予定日時"), widget=DateTimeInput())
    workers = forms.ModelMultipleChoiceField(
        label=_("訪問者（2人まで）"),
        queryset=User.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.case: Case | None = None  # found by clean_case_code
        self.fields["workers"].queryset = visit_workers(user)

    def clean_case_code(self) -> str:
        code = self.cleaned_data["case_code"].strip().upper()
        self.case = find_visible_case(self.user, code, capability=Capability.WRITE)
        if self.case is None:
            raise forms.ValidationError(_("このケースコードは見つかりません。"))
        return code

    def clean_workers(self):
        workers = self.cleaned_data["workers"]
        if len(workers) > 2:
            raise forms.ValidationError(_("訪問者は2人までです。"))
        return workers


class VisitCompleteForm(forms.Form):
    outcome = forms.ChoiceField(label=_("結果"), choices=Visit.Outcome.choices)
    consulter = forms.ChoiceField(
        label=_("面談した相手"), choices=Consulter.choices, initial=Consulter.SELF
    )
    minutes = forms.IntegerField(
        label=_("対応時間（分）"), min_value=0, max_value=MINUTES_IN_A_DAY, initial=60
    )
    travel_minutes = forms.IntegerField(
        label=_("移動時間（分）"), min_value=0, max_value=MINUTES_IN_A_DAY, initial=0
    )
    notes = forms.CharField(
        label=_("訪問記録"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class SessionForm(forms.ModelForm):
    class Meta:
        model = Session
        fields = ["held_on", "theme", "venue", "online"]
        widgets = {"held_on": DateInput()}
