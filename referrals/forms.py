"""Referral forms."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Organisation, User
from accounts.selectors import partner_organisations
from casework.forms import DateInput, not_in_future

from .models import Referral


class ReferralForm(forms.Form):
    to_organisation = forms.ModelChoiceField(
        label=_("紹介先"), queryset=Organisation.objects.none()
    )
    kind = forms.ChoiceField(label=_("種別"), choices=Referral.Kind.choices)
    purpose = forms.CharField(
        label=_("紹介の目的・経過"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    consent_given = forms.BooleanField(label=_("本人等の同意あり"), required=False)
    consent_on = forms.DateField(label=_("同意日"), required=False, widget=DateInput())
    consent_method = forms.ChoiceField(
        label=_("同意の方法"), required=False, choices=[("", "—"), *Referral.ConsentMethod.choices]
    )
    share_basic_profile = forms.BooleanField(label=_("基本情報（氏名・連絡先等）"), required=False)
    share_summary = forms.BooleanField(label=_("紹介の目的・ケース概要"), required=False)
    share_contacts = forms.BooleanField(label=_("相談の経過"), required=False)
    share_meeting_decisions = forms.BooleanField(label=_("会議での決定事項"), required=False)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to_organisation"].queryset = partner_organisations(user)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        scopes = [s for s in Referral.SCOPES if data.get(s)]
        if data.get("consent_given"):
            if not data.get("consent_on"):
                self.add_error("consent_on", _("同意日を入力してください。"))
            if not data.get("consent_method"):
                self.add_error("consent_method", _("同意の方法を選んでください。"))
            not_in_future(data.get("consent_on"), _("同意日に未来の日付は指定できません。"))
        elif scopes:
            raise forms.ValidationError(
                _(
                    "同意がない紹介では、個人を特定できない情報しか共有できません。共有範囲の選択を外してください。"
                )
            )
        return data

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "to_organisation": data["to_organisation"],
            "kind": data["kind"],
            "purpose": data["purpose"],
            "consent": {
                "consent_given": data["consent_given"],
                "consent_on": data["consent_on"],
                "consent_method": data["consent_method"],
            },
            "scopes": {s: data[s] for s in Referral.SCOPES},
        }


class TransferForm(forms.Form):
    to_organisation = forms.ModelChoiceField(
        label=_("移管先"), queryset=Organisation.objects.none()
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to_organisation"].queryset = partner_organisations(user)
