"""What the API reads and answers. Output serializers describe the answers (the OpenAPI
schema is generated from them) and shape them; nothing here decrypts identity."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from accounts.models import Organisation
from casework.models import (
    MINUTES_IN_A_DAY,
    NOTE_MAX,
    SUMMARY_MAX,
    Channel,
    Consulter,
    Contact,
    Gender,
    Topic,
)
from casework.periods import AgeBand
from referrals.models import Referral
from referrals.selectors import non_identifying_profile
from referrals.services import TRANSITIONS


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="Why the request was refused.")


class NamedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


def named(obj: Any) -> dict[str, Any] | None:
    return {"id": obj.pk, "name": obj.name} if obj is not None else None


# --- indicators ---------------------------------------------------------------------------


class ChoiceSerializer(serializers.Serializer):
    value = serializers.CharField()
    label = serializers.CharField()


class ParameterSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="Query parameter `p_<key>`, repeatable.")
    label = serializers.CharField()
    choices = ChoiceSerializer(many=True)


class DimensionSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()


class MetricSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    unit = serializers.CharField()
    counting = serializers.CharField(help_text="total (延べ), distinct (実) or as_of (時点).")
    description = serializers.CharField()
    parameters = ParameterSerializer(many=True)
    dimensions = DimensionSerializer(many=True)


class FigureSerializer(serializers.Serializer):
    value = serializers.FloatField(
        allow_null=True, help_text="Null when suppressed (秘匿) or not available."
    )
    suppressed = serializers.BooleanField()


class PeriodSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    label = serializers.CharField()


class ScopeSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["prefecture", "region", "organisation"])
    organisation = serializers.IntegerField(allow_null=True)
    region = serializers.IntegerField(allow_null=True)
    label = serializers.CharField()


class BreakdownRowSerializer(serializers.Serializer):
    key = serializers.CharField(allow_null=True, help_text="Choice value, id or month (ISO).")
    label = serializers.CharField()
    value = serializers.FloatField(allow_null=True)
    suppressed = serializers.BooleanField()


class BreakdownSerializer(serializers.Serializer):
    dimension = serializers.CharField()
    label = serializers.CharField()
    rows = BreakdownRowSerializer(many=True)
    total = FigureSerializer()


class MetricResultSerializer(serializers.Serializer):
    metric = serializers.CharField()
    label = serializers.CharField()
    unit = serializers.CharField()
    counting = serializers.CharField()
    period = PeriodSerializer()
    scope = ScopeSerializer()
    exact = serializers.BooleanField(
        help_text="False when small cells (and their complements) are suppressed."
    )
    total = FigureSerializer()
    breakdowns = BreakdownSerializer(many=True)


class PlanSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    organisation = NamedSerializer()
    first_year = serializers.IntegerField()
    last_year = serializers.IntegerField()


class IndicatorRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    unit = serializers.CharField()
    direction = serializers.CharField()


class PriorYearSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    figure = FigureSerializer()


class ProgressRowSerializer(serializers.Serializer):
    indicator = IndicatorRefSerializer()
    actual = FigureSerializer()
    cumulative = FigureSerializer(allow_null=True)
    target = serializers.FloatField(allow_null=True)
    cumulative_target = serializers.FloatField(allow_null=True)
    ratio = serializers.FloatField(allow_null=True, help_text="Achievement A/B in percent.")
    ratio_shown = serializers.FloatField(allow_null=True, help_text="As the plan shows it.")
    status = serializers.CharField(allow_null=True)
    status_label = serializers.CharField()
    prior = PriorYearSerializer(many=True)


class ProgressSerializer(serializers.Serializer):
    plan = serializers.IntegerField()
    year = serializers.IntegerField()
    period = PeriodSerializer()
    exact = serializers.BooleanField()
    rows = ProgressRowSerializer(many=True)


# --- referrals ----------------------------------------------------------------------------


class ProfileSerializer(serializers.Serializer):
    gender = serializers.CharField(allow_null=True)
    birth_decade = serializers.CharField(allow_null=True)
    municipality = serializers.CharField(allow_null=True)
    withdrawal_band = serializers.CharField(allow_null=True)


class ReferralSerializer(serializers.Serializer):
    """A referral as either side sees it in its lists: who, what kind, where it stands,
    the non-identifying profile and the consented scopes; never the shared content."""

    id = serializers.UUIDField()
    side = serializers.ChoiceField(choices=["sender", "receiver"])
    case = serializers.CharField(allow_null=True, help_text="Case code, for the sender only.")
    kind = serializers.CharField()
    kind_label = serializers.CharField()
    status = serializers.ChoiceField(choices=Referral.Status.choices)
    status_label = serializers.CharField()
    from_organisation = NamedSerializer()
    to_organisation = NamedSerializer()
    profile = ProfileSerializer()
    consent_given = serializers.BooleanField()
    consent_withdrawn_on = serializers.DateField(allow_null=True)
    shared_scopes = serializers.ListField(child=serializers.CharField())
    sent_at = serializers.DateTimeField(allow_null=True)
    responded_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    next_statuses = serializers.ListField(
        child=serializers.ChoiceField(choices=Referral.Status.choices),
        help_text="The statuses this side may move the referral to now.",
    )

    def to_representation(self, referral: Referral) -> dict[str, Any]:
        organisation_id = self.context["request"].user.organisation_id
        side = "sender" if referral.from_organisation_id == organisation_id else "receiver"
        data = {
            "id": referral.pk,
            "side": side,
            "case": referral.case.code if side == "sender" else None,
            "kind": referral.kind,
            "kind_label": referral.get_kind_display(),
            "status": referral.status,
            "status_label": referral.get_status_display(),
            "from_organisation": named(referral.from_organisation),
            "to_organisation": named(referral.to_organisation),
            "profile": non_identifying_profile(referral),
            "consent_given": referral.consent_given,
            "consent_withdrawn_on": referral.consent_withdrawn_on,
            "shared_scopes": referral.shared_scopes,
            "sent_at": referral.sent_at,
            "responded_at": referral.responded_at,
            "closed_at": referral.closed_at,
            "next_statuses": [
                status for status, who in TRANSITIONS[referral.status].items() if who == side
            ],
        }
        return super().to_representation(data)


class TransitionSerializer(serializers.Serializer):
    to = serializers.ChoiceField(choices=Referral.Status.choices, label=_("変更後の状態"))
    note = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=2000,
        label=_("理由"),
        help_text="Required when declining.",
    )


# --- contacts -----------------------------------------------------------------------------


class ContactCreateSerializer(serializers.Serializer):
    """One contact to log. With `case` (a case code the user may see) the attributes are
    taken from the case's client; without it the contact is anonymous and `age_band`,
    `gender` and `municipality` describe the caller for the statistics."""

    case = serializers.CharField(required=False, allow_blank=True, max_length=12)
    occurred_at = serializers.DateTimeField(required=False)
    channel = serializers.ChoiceField(choices=Channel.choices)
    consulter = serializers.ChoiceField(choices=Consulter.choices, default=Consulter.SELF)
    kind = serializers.ChoiceField(choices=Contact.Kind.choices, default=Contact.Kind.CONTINUING)
    minutes = serializers.IntegerField(min_value=0, max_value=MINUTES_IN_A_DAY, default=0)
    topics = serializers.ListField(
        child=serializers.ChoiceField(choices=Topic.choices), default=list, max_length=20
    )
    summary = serializers.CharField(required=False, allow_blank=True, max_length=SUMMARY_MAX)
    follow_up = serializers.CharField(required=False, allow_blank=True, max_length=NOTE_MAX)
    follow_up_due = serializers.DateField(required=False, allow_null=True)
    referring_organisation = serializers.PrimaryKeyRelatedField(
        queryset=Organisation.objects.filter(is_active=True), required=False, allow_null=True
    )
    age_band = serializers.ChoiceField(choices=AgeBand.choices, default=AgeBand.UNKNOWN)
    gender = serializers.ChoiceField(choices=Gender.choices, default=Gender.UNKNOWN)
    municipality = serializers.PrimaryKeyRelatedField(
        queryset=Organisation.objects.filter(kind=Organisation.Kind.MUNICIPALITY),
        required=False,
        allow_null=True,
    )

    def validate_occurred_at(self, value: datetime.datetime) -> datetime.datetime:
        if timezone.localtime(value).date() > timezone.localdate():
            raise serializers.ValidationError(_("相談日時に未来の日付は指定できません。"))
        if value.year < 2000:
            raise serializers.ValidationError(_("相談日時が古すぎます。"))
        return value


class ContactSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    case = serializers.CharField(allow_null=True)
    occurred_at = serializers.DateTimeField()
    channel = serializers.CharField()
    consulter = serializers.CharField()
    kind = serializers.CharField()
    minutes = serializers.IntegerField()
    topics = serializers.ListField(child=serializers.CharField())
    follow_up_due = serializers.DateField(allow_null=True)

    def to_representation(self, contact: Contact) -> dict[str, Any]:
        return super().to_representation(
            {
                "id": contact.pk,
                "case": contact.case.code if contact.case_id else None,
                "occurred_at": contact.occurred_at,
                "channel": contact.channel,
                "consulter": contact.consulter,
                "kind": contact.kind,
                "minutes": contact.minutes,
                "topics": contact.topics,
                "follow_up_due": contact.follow_up_due,
            }
        )
