"""Meeting forms."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from casework.forms import DateInput, DateTimeInput

from .models import ExternalAttendance, Meeting
from .selectors import meeting_staff


class MeetingForm(forms.Form):
    kind = forms.ChoiceField(label=_("種別"), choices=Meeting.Kind.choices)
    held_at = forms.DateTimeField(label=_("日時"), widget=DateTimeInput())
    legal_basis = forms.ChoiceField(
        label=_("開催の根拠"),
        choices=Meeting.LegalBasis.choices,
        initial=Meeting.LegalBasis.INTERNAL,
    )
    place = forms.CharField(label=_("場所"), required=False, max_length=200)
    online = forms.BooleanField(label=_("オンライン"), required=False)
    attendees = forms.ModelMultipleChoiceField(
        label=_("出席者"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, staff: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["attendees"].queryset = staff  # selectors.new_meeting_staff


ACTION_FIELDS = ("action_description", "action_assignee", "action_due_on")


class AgendaItemForm(forms.Form):
    """Who presents a case to the meeting and what they ask it (both optional); the case
    code and the reason come with it from the agenda form or the pack's "add" buttons."""

    presenter = forms.ModelChoiceField(
        label=_("報告者"), queryset=User.objects.none(), required=False
    )
    question = forms.CharField(
        label=_("検討したいこと"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, staff: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["presenter"].queryset = staff  # selectors.meeting_staff


class MinutesForm(forms.Form):
    discussion = forms.CharField(
        label=_("検討内容"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    decisions = forms.CharField(
        label=_("決定事項"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    next_review_on = forms.DateField(label=_("次回見直し日"), required=False, widget=DateInput())
    take_on_mdt = forms.BooleanField(label=_("多職種連携チームで支援する"), required=False)
    # An explicit choice, never ticked by default: closing the review ends the attending
    # MDT members' access to the case (meetings.services.sync_grants).
    close_review = forms.BooleanField(
        label=_("このケースの検討を終える"),
        required=False,
        help_text=_(
            "チェックすると、出席している多職種連携チーム員はこのケースを閲覧できなくなります。"
        ),
    )
    action_description = forms.CharField(label=_("対応事項"), required=False, max_length=1000)
    action_assignee = forms.ModelChoiceField(
        label=_("対応の担当者"), queryset=User.objects.none(), required=False
    )
    action_due_on = forms.DateField(label=_("対応の期限"), required=False, widget=DateInput())

    # The minutes' version the form was drawn from (selectors.minutes_version).
    version = forms.CharField(widget=forms.HiddenInput, required=False)

    # Planning the case: only who may (selectors.may_plan).
    PLANNING = ("next_review_on", "take_on_mdt", *ACTION_FIELDS)

    def __init__(
        self,
        *args: Any,
        staff: QuerySet[User],
        planning: bool = True,
        review_closed: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["action_assignee"].queryset = staff  # selectors.meeting_staff
        if not planning:
            for name in self.PLANNING:
                del self.fields[name]
        if review_closed:  # shown as it is; a closed review is not reopened here
            field = self.fields["close_review"]
            field.initial, field.disabled = True, True
            field.help_text = _("このケースの検討は終了しています。")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        action = [
            data.get("action_description"),
            data.get("action_assignee"),
            data.get("action_due_on"),
        ]
        if any(action) and not all(action):
            raise forms.ValidationError(
                _("対応事項を記録するときは、内容・担当者・期限をすべて入力してください。")
            )
        return data


class AttendeesForm(forms.Form):
    """The meeting's attendees, ticked among the host's staff.

    Current attendees stay listed (and ticked) even when no longer active staff, so that
    submitting the form unchanged never drops them. `current` is the list the form was
    drawn from; the service refuses the change if someone else has changed it since.
    """

    attendees = forms.ModelMultipleChoiceField(
        label=_("出席者"),
        queryset=User.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("出席者を少なくとも1人選んでください。")},
    )
    current = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(
        self, *args: Any, meeting: Meeting, attendee_ids: list[int] | None = None, **kwargs: Any
    ) -> None:
        if attendee_ids is None:
            attendee_ids = sorted(meeting.attendees.values_list("pk", flat=True))
        kwargs.setdefault(
            "initial",
            {"attendees": attendee_ids, "current": ",".join(map(str, attendee_ids))},
        )
        super().__init__(*args, **kwargs)
        self.fields["attendees"].queryset = (
            User.objects.filter(
                Q(pk__in=meeting_staff(meeting).values("pk")) | Q(pk__in=attendee_ids)
            )
            .distinct()
            .order_by("username")
        )

    def clean_current(self) -> list[int]:
        try:
            return [int(pk) for pk in self.cleaned_data["current"].split(",") if pk]
        except ValueError:
            return []  # a forged value: treated as stale by the service


class ExternalAttendanceForm(forms.ModelForm):
    count = forms.IntegerField(label=_("人数"), min_value=1, max_value=999, initial=1)

    class Meta:
        model = ExternalAttendance
        fields = ["organisation_type", "profession", "count"]


class UnregisteredCasesForm(forms.Form):
    """Residents not in the system discussed at a case conference: a number, no names."""

    count = forms.IntegerField(
        label=_("登録外の住民について検討した件数"),
        min_value=1,
        max_value=99,
        help_text=_("システムに登録されていない住民のケースは件数だけを記録します。"),
    )
