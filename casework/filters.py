"""Filters of the case list (django-filter). The queryset is already permission-scoped."""

from __future__ import annotations

import datetime

import django_filters
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Organisation, Region, User

from .models import Case


class CaseFilter(django_filters.FilterSet):
    code = django_filters.CharFilter(label=_("ケースコード"), method="filter_code")
    status = django_filters.ChoiceFilter(label=_("状態"), choices=Case.Status.choices)
    worker = django_filters.ModelChoiceFilter(
        label=_("担当者"), field_name="lead_workers", queryset=User.objects.none()
    )
    municipality = django_filters.ModelChoiceFilter(
        label=_("居住市町村"),
        field_name="client__municipality",
        queryset=Organisation.objects.filter(kind=Organisation.Kind.MUNICIPALITY),
    )
    region = django_filters.ModelChoiceFilter(
        label=_("圏域"), field_name="client__municipality__region", queryset=Region.objects.all()
    )
    mdt_supported = django_filters.BooleanFilter(label=_("多職種連携チーム支援"))
    restricted = django_filters.BooleanFilter(label=_("閲覧制限"))
    school_refusal_history = django_filters.BooleanFilter(label=_("不登校経験"))
    no_contact_days = django_filters.NumberFilter(
        label=_("最終相談から（日以上）"), method="filter_no_contact"
    )

    class Meta:
        model = Case
        fields: list[str] = []

    def __init__(self, *args, user: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.filters["worker"].queryset = User.objects.filter(
            organisation_id=user.organisation_id, is_active=True
        ).order_by("username")

    def filter_code(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        # Codes are upper case (casework.models.CODE_ALPHABET): an exact match on the upper
        # form finds a case by the unique index, where a case-insensitive one reads them all.
        return queryset.filter(code=value.strip().upper())

    def filter_no_contact(self, queryset: QuerySet, name: str, value: int) -> QuerySet:
        if value is None or value < 0:
            return queryset
        cutoff = timezone.now() - datetime.timedelta(days=int(value))
        return queryset.filter(Q(last_contact_at__lt=cutoff) | Q(last_contact_at__isnull=True))
