"""Casework forms. Sensitive inputs are declared here explicitly, never reflected from models."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Organisation, User
from accounts.selectors import case_workers, municipalities

from . import crypto
from .access import Capability
from .models import (
    MINUTES_IN_A_DAY,
    NOTE_MAX,
    SUMMARY_MAX,
    BreakGlass,
    Case,
    Channel,
    Consulter,
    Contact,
    Gender,
    Milestone,
    Topic,
)
from .periods import AgeBand
from .records import normalise_code
from .search import Terms
from .selectors import find_visible_case
from .services import CORRECTABLE


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


def municipality_field(label: str = _("居住市町村")) -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        label=label,
        queryset=municipalities(),
        required=False,
        empty_label=_("（不明・県外）"),
    )


def not_in_future(value: datetime.date | datetime.datetime | None, message: str) -> None:
    if value is None:
        return
    day = timezone.localtime(value).date() if isinstance(value, datetime.datetime) else value
    if day > timezone.localdate():
        raise forms.ValidationError(message)


class ContactForm(forms.Form):
    """The quick contact log: defaults for a phone call happening now."""

    case_code = forms.CharField(
        label=_("ケースコード"),
        required=False,
        max_length=12,
        help_text=_("空欄なら匿名の相談として記録します。"),
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "off"}),
    )
    occurred_at = forms.DateTimeField(label=_("相談日時"), widget=DateTimeInput())
    channel = forms.ChoiceField(label=_("相談方法"), choices=Channel.choices, initial=Channel.PHONE)
    consulter = forms.ChoiceField(
        label=_("相談者"), choices=Consulter.choices, initial=Consulter.SELF
    )
    kind = forms.ChoiceField(
        label=_("新規／継続"), choices=Contact.Kind.choices, initial=Contact.Kind.CONTINUING
    )
    minutes = forms.IntegerField(
        label=_("対応時間（分）"), min_value=0, max_value=MINUTES_IN_A_DAY, initial=10
    )
    topics = forms.MultipleChoiceField(
        label=_("相談内容"),
        choices=Topic.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    summary = forms.CharField(
        label=_("相談内容の記録"),
        required=False,
        max_length=SUMMARY_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    follow_up = forms.CharField(
        label=_("今後の対応"),
        required=False,
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    follow_up_due = forms.DateField(label=_("対応予定日"), required=False, widget=DateInput())
    referring_organisation = forms.ModelChoiceField(
        label=_("相談元の機関"),
        queryset=Organisation.objects.filter(is_active=True),
        required=False,
        help_text=_("市町村担当課等からの個別事例の相談のとき"),
    )
    # The snapshot of an anonymous contact; a case's contacts take the person's own.
    age_band = forms.ChoiceField(
        label=_("年代"),
        choices=AgeBand.choices,
        initial=AgeBand.UNKNOWN,
        required=False,
        help_text=_("匿名の相談のときに記録します（ケースの相談は本人の登録内容を使います）。"),
    )
    gender = forms.ChoiceField(
        label=_("性別"), choices=Gender.choices, initial=Gender.UNKNOWN, required=False
    )
    municipality = municipality_field()

    # Set once the form has asked whether a contact on a case with contacts is 新規.
    confirm_first = forms.BooleanField(required=False, widget=forms.HiddenInput)
    ASKS_BEFORE_FIRST = True

    SNAPSHOT_FIELDS = ("age_band", "gender", "municipality")
    # Keyboard order for a call logged as it happens: what changes from call to call
    # first, the text next, then what the defaults (now, no referral) usually get right.
    # From the case code to the text is five Tab stops (the date-time input alone would
    # take five); the page shows its keys (casework/_shortcuts.html).
    field_order = [
        "case_code",
        "channel",
        "consulter",
        "kind",
        "minutes",
        "summary",
        "topics",
        "follow_up",
        "follow_up_due",
        "occurred_at",
        "referring_organisation",
        *SNAPSHOT_FIELDS,
    ]

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.case: Case | None = None
        self.fields["occurred_at"].initial = timezone.localtime().replace(second=0, microsecond=0)
        if not (self.initial.get("case_code") or "").strip():
            # A call without a case is most often a first call.
            self.fields["kind"].initial = Contact.Kind.FIRST
        else:  # opened from a case: its code is there, the cursor starts on the method
            self.fields["case_code"].widget.attrs.pop("autofocus", None)
            self.fields["channel"].widget.attrs["autofocus"] = True

    def clean_case_code(self) -> str:
        code = normalise_code(self.cleaned_data["case_code"])
        if code:
            self.case = find_visible_case(
                self.user, code, related=("client",), capability=Capability.WRITE
            )
            if self.case is None:
                raise forms.ValidationError(_("このケースコードは見つかりません。"))
        return code

    def clean_occurred_at(self) -> datetime.datetime:
        value = self.cleaned_data["occurred_at"]
        not_in_future(value, _("相談日時に未来の日付は指定できません。"))
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if (
            self.ASKS_BEFORE_FIRST
            and self.case is not None
            and data.get("kind") == Contact.Kind.FIRST
            and not data.get("confirm_first")
        ):
            earlier = Contact.objects.visible_to(self.user).filter(case=self.case).count()
            if earlier:
                # 新規 counts a new consultation in the plan's figures: asked once, kept
                # if the person saves again (a new episode after a long break).
                self.add_error(
                    "kind",
                    _(
                        "このケースには相談記録がすでに%(count)s件あります。続きの相談なら"
                        "「継続」を選んでください。改めて新規の相談として数えるときは、"
                        "このままもう一度保存してください。"
                    )
                    % {"count": earlier},
                )
                self.data = self.data.copy()
                self.data["confirm_first"] = "on"
        return data

    def service_fields(self) -> dict[str, Any]:
        data = {
            k: v for k, v in self.cleaned_data.items() if k not in ("case_code", "confirm_first")
        }
        data["summary"] = data["summary"] or None
        data["follow_up"] = data["follow_up"] or None
        data["age_band"] = data["age_band"] or AgeBand.UNKNOWN
        data["gender"] = data["gender"] or Gender.UNKNOWN
        if self.case is not None and self.case.client_id is not None:
            for field in self.SNAPSHOT_FIELDS:  # taken from the client by the service
                data.pop(field)
        return data


class ContactCorrectionForm(ContactForm):
    """A saved contact corrected: the same fields as the log, starting from what was
    saved, and the reason for the correction."""

    ASKS_BEFORE_FIRST = False

    correction_reason = forms.CharField(
        label=_("訂正の理由"),
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("訂正前の内容は履歴に残ります。"),
    )

    def __init__(self, *args: Any, contact: Contact, **kwargs: Any) -> None:
        initial = {name: getattr(contact, name) for name in CORRECTABLE}
        initial["occurred_at"] = timezone.localtime(contact.occurred_at).replace(tzinfo=None)
        super().__init__(*args, initial=initial, **kwargs)
        del self.fields["case_code"]
        self.fields["occurred_at"].initial = None  # from the contact, not now
        self.contact = contact
        self.case = contact.case
        if self.case is not None and self.case.client_id is not None:
            for field in self.SNAPSHOT_FIELDS:  # the person's, not to be typed
                del self.fields[field]

    def clean_occurred_at(self) -> datetime.datetime:
        value = super().clean_occurred_at()
        saved = self.contact.occurred_at
        if value == saved.replace(second=0, microsecond=0):
            return saved  # the form shows minutes: unchanged, not moved to :00
        return value

    def service_fields(self) -> dict[str, Any]:
        self.cleaned_data.setdefault("case_code", "")
        for field in self.SNAPSHOT_FIELDS:
            self.cleaned_data.setdefault(field, None)
        data = super().service_fields()
        data.pop("correction_reason", None)
        return data


class LinkContactForm(forms.Form):
    case_code = forms.CharField(label=_("ケースコード"), max_length=12)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.case: Case | None = None

    def clean_case_code(self) -> str:
        code = normalise_code(self.cleaned_data["case_code"])
        self.case = find_visible_case(self.user, code, capability=Capability.WRITE)
        if self.case is None:
            raise forms.ValidationError(_("このケースコードは見つかりません。"))
        return code


class UnlinkContactForm(forms.Form):
    reason = forms.CharField(
        label=_("取り消しの理由"),
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("取り消しの理由を入れてください。")},
    )


class IdentityFields(forms.Form):
    name = forms.CharField(label=_("氏名"), required=False, max_length=100)
    name_kana = forms.CharField(label=_("氏名（カナ）"), required=False, max_length=100)
    birth_date = forms.DateField(label=_("生年月日"), required=False, widget=DateInput())
    phone = forms.CharField(label=_("電話番号"), required=False, max_length=30)
    address = forms.CharField(label=_("住所"), required=False, max_length=300)
    notes = forms.CharField(
        label=_("備考"),
        required=False,
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    gender = forms.ChoiceField(label=_("性別"), choices=Gender.choices, initial=Gender.UNKNOWN)
    municipality = municipality_field()
    household_8050 = forms.BooleanField(label=_("8050世帯"), required=False)
    lives_alone = forms.BooleanField(label=_("単身世帯"), required=False)

    IDENTITY = ("name", "name_kana", "birth_date", "phone", "address", "notes")
    ATTRIBUTES = ("gender", "municipality", "household_8050", "lives_alone")

    def clean_birth_date(self) -> datetime.date | None:
        value = self.cleaned_data["birth_date"]
        not_in_future(value, _("生年月日に未来の日付は指定できません。"))
        if value is not None and value.year < 1900:
            raise forms.ValidationError(_("生年月日を確認してください。"))
        return value

    def identity(self) -> dict[str, Any]:
        return {f: self.cleaned_data[f] for f in self.IDENTITY}

    def attributes(self) -> dict[str, Any]:
        return {f: self.cleaned_data[f] for f in self.ATTRIBUTES}


class CaseFields(forms.Form):
    withdrawal_band = forms.ChoiceField(
        label=_("ひきこもり期間"),
        choices=Case.WithdrawalBand.choices,
        initial=Case.WithdrawalBand.UNKNOWN,
    )
    school_refusal_history = forms.BooleanField(label=_("不登校経験"), required=False)
    suspected_mental_illness = forms.BooleanField(label=_("精神疾患の疑い"), required=False)
    suspected_developmental_disability = forms.BooleanField(
        label=_("発達障害の疑い"), required=False
    )
    employment_history = forms.BooleanField(label=_("就労経験あり"), required=False)
    mdt_supported = forms.BooleanField(label=_("多職種連携チーム支援"), required=False)
    restricted = forms.BooleanField(
        label=_("閲覧制限"),
        required=False,
        help_text=_("担当者とスーパーバイザーだけが閲覧できます。"),
    )
    sharing_consent_on = forms.DateField(
        label=_("関係機関との情報共有への同意日"), required=False, widget=DateInput()
    )
    summary = forms.CharField(
        label=_("概要"),
        required=False,
        max_length=SUMMARY_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    CASE = (
        "withdrawal_band",
        "school_refusal_history",
        "suspected_mental_illness",
        "suspected_developmental_disability",
        "employment_history",
        "mdt_supported",
        "restricted",
        "sharing_consent_on",
        "summary",
    )

    def case_fields(self) -> dict[str, Any]:
        data = {f: self.cleaned_data[f] for f in self.CASE}
        data["summary"] = data["summary"] or None
        return data


class CaseOpenForm(IdentityFields, CaseFields):
    opened_on = forms.DateField(label=_("受付日"), widget=DateInput())
    confirm_duplicate = forms.BooleanField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["opened_on"].initial = timezone.localdate()

    def clean_opened_on(self) -> datetime.date:
        value = self.cleaned_data["opened_on"]
        not_in_future(value, _("受付日に未来の日付は指定できません。"))
        return value

    def case_fields(self) -> dict[str, Any]:
        return {**super().case_fields(), "opened_on": self.cleaned_data["opened_on"]}


class VersionField(forms.IntegerField):
    def __init__(self) -> None:
        super().__init__(widget=forms.HiddenInput, min_value=1)


class CaseEditForm(CaseFields):
    status = forms.ChoiceField(
        label=_("状態"), choices=[c for c in Case.Status.choices if c[0] != Case.Status.CLOSED]
    )
    lead_workers = forms.ModelMultipleChoiceField(
        label=_("担当者"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    version = VersionField()

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["lead_workers"].queryset = case_workers(case.organisation_id)

    def changes(self) -> dict[str, Any]:
        return {**self.case_fields(), "status": self.cleaned_data["status"]}


class IdentityEditForm(IdentityFields):
    version = VersionField()


class CloseForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("終結理由"),
        choices=[c for c in Case.ClosureReason.choices if c[0] != Case.ClosureReason.MERGED],
    )
    closed_on = forms.DateField(label=_("終結日"), widget=DateInput())
    version = VersionField()

    def clean_closed_on(self) -> datetime.date:
        value = self.cleaned_data["closed_on"]
        not_in_future(value, _("終結日に未来の日付は指定できません。"))
        return value


class MilestoneForm(forms.Form):
    kind = forms.ChoiceField(label=_("到達した状態"), choices=Milestone.Kind.choices)
    achieved_on = forms.DateField(label=_("年月日"), widget=DateInput())
    note = forms.CharField(
        label=_("メモ"),
        required=False,
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean_achieved_on(self) -> datetime.date:
        value = self.cleaned_data["achieved_on"]
        not_in_future(value, _("未来の日付は指定できません。"))
        return value


class MergeForm(forms.Form):
    absorbed_code = forms.CharField(label=_("統合するケースのコード"), max_length=12)

    def __init__(self, *args: Any, user: User, keep: Case, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user, self.keep, self.absorbed = user, keep, None

    def clean_absorbed_code(self) -> str:
        code = self.cleaned_data["absorbed_code"].strip().upper()
        self.absorbed = find_visible_case(self.user, code, capability=Capability.WRITE)
        if self.absorbed is None or self.absorbed.pk == self.keep.pk:
            raise forms.ValidationError(_("統合できるケースが見つかりません。"))
        return code


class BreakGlassForm(forms.Form):
    code = forms.CharField(label=_("ケースコード"), max_length=12)
    category = forms.ChoiceField(
        label=_("理由の区分"), choices=[("", "---------"), *BreakGlass.Category.choices]
    )
    reason = forms.CharField(
        label=_("緊急に閲覧する理由"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "理由はケースの鍵で暗号化して保存され、スーパーバイザーが確認します。"
            "監査記録には区分だけが残ります。"
        ),
    )


class AccessReviewForm(forms.Form):
    start = forms.DateField(label=_("開始日"), widget=DateInput())
    end = forms.DateField(label=_("終了日"), widget=DateInput())

    def clean(self) -> dict:
        data = super().clean()
        if data.get("start") and data.get("end"):
            if data["end"] < data["start"]:
                self.add_error("end", _("終了日は開始日以降にしてください。"))
            elif (data["end"] - data["start"]).days > 366:
                self.add_error("end", _("期間は1年以内にしてください。"))
        return data


class ExportForm(forms.Form):
    """What to write out: the file format and, for the contact log, the period."""

    FORMAT_CHOICES = [("xlsx", _("Excel（XLSX）")), ("csv", _("CSV（UTF-8、BOM付き）"))]
    MAX_DAYS = 366 * 5

    fmt = forms.ChoiceField(label=_("形式"), choices=FORMAT_CHOICES, initial="xlsx")
    start = forms.DateField(label=_("期間の開始日"), required=False, widget=DateInput())
    end = forms.DateField(label=_("期間の終了日"), required=False, widget=DateInput())

    def __init__(self, *args: Any, needs_period: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.needs_period = needs_period

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if self.needs_period:
            if start is None and "start" not in self.errors:
                self.add_error("start", _("開始日を入れてください。"))
            if end is None and "end" not in self.errors:
                self.add_error("end", _("終了日を入れてください。"))
        if start and end and end < start:
            self.add_error("end", _("終了日は開始日以降にしてください。"))
        elif start and end and (end - start).days > self.MAX_DAYS:
            self.add_error("end", _("期間は5年以内にしてください。"))
        return data


class IdentityPrintForm(forms.Form):
    """Why the case record is printed with the name (recorded in the audit trail)."""

    purpose = forms.CharField(
        label=_("利用目的"),
        min_length=5,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("監査記録に残ります。例：主治医への紹介状に添える記録"),
        error_messages={
            "required": _("個人情報を含む書き出しには目的を具体的に記入してください。"),
            "min_length": _("個人情報を含む書き出しには目的を具体的に記入してください。"),
        },
    )


class IdentityExportForm(ExportForm):
    """A supervisor's export with identity: what, and why (recorded in the audit trail)."""

    KIND_CHOICES = [
        ("cases", _("ケース一覧（氏名・連絡先を含む）")),
        ("contacts", _("相談記録（記録の本文を含む）")),
    ]

    kind = forms.ChoiceField(label=_("書き出す内容"), choices=KIND_CHOICES)
    purpose = forms.CharField(
        label=_("利用目的"),
        min_length=5,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("監査記録に残ります。例：転居に伴う移管先への引継ぎ資料の作成"),
    )
    field_order = ["kind", "fmt", "start", "end", "purpose"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, needs_period=False, **kwargs)

    def clean(self) -> dict[str, Any]:
        self.needs_period = self.data.get("kind") == "contacts"
        return super().clean()


class SearchForm(forms.Form):
    """What a caller gives to find their case: any of the three, together narrowing."""

    # Not remembered by the browser: a shared office PC would offer the names to the next.
    name_kana = forms.CharField(
        label=_("氏名（カナ）"),
        required=False,
        max_length=100,
        help_text=_(
            "カナで、フルネームまたは姓（姓と名の間に空白を入れて登録された人）。"
            "全角・半角、ひらがな・カタカナ、小さい文字、長音は区別しません。"
            "漢字や名だけでは探せません。"
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True}),
    )
    phone = forms.CharField(
        label=_("電話番号"),
        required=False,
        max_length=30,
        widget=forms.TextInput(attrs={"autocomplete": "off", "type": "tel"}),
    )
    birth_date = forms.DateField(
        label=_("生年月日"), required=False, widget=DateInput(attrs={"autocomplete": "off"})
    )

    def clean_phone(self) -> str:
        phone = self.cleaned_data["phone"]
        if phone and not crypto.normalise_phone(phone):
            raise forms.ValidationError(_("電話番号は数字で入れてください。"))
        return phone

    def clean_name_kana(self) -> str:
        kana = self.cleaned_data["name_kana"]
        if kana and not crypto.normalise_kana(kana):
            raise forms.ValidationError(_("氏名（カナ）を入れてください。"))
        return kana

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not self.errors and not any(data.get(f) for f in ("name_kana", "phone", "birth_date")):
            raise forms.ValidationError(
                _("氏名（カナ）、電話番号、生年月日のいずれかを入れてください。")
            )
        return data

    def terms(self) -> Terms:
        data = self.cleaned_data
        return Terms(kana=data["name_kana"], phone=data["phone"], birth_date=data["birth_date"])
