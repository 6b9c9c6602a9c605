"""Filters of the case list (django-filter). The queryset is already permission-scoped."""

from __future__ import annotations

import datetime

import django_filters
from django.db.models import QuerySet
from django.db.models.lookups import LessThan
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Organisation, Region, User
from accounts.selectors import case_workers

from .models import Case, last_contact_key


def _named(queryset: QuerySet, *fields: str) -> list[tuple[object, str]]:
    """(key, name) choices of the rows, named as the model names itself (`fields` are
    what its __str__ reads)."""
    return [(row.pk, str(row)) for row in queryset.only(*fields)]


class CaseFilter(django_filters.FilterSet):
    code = django_filters.CharFilter(label=_("ケースコード"), method="filter_code")
    status = django_filters.ChoiceFilter(label=_("状態"), choices=Case.Status.choices)
    # The three lists of names are read as (key, name) pairs when the filter is made: a
    # model choice field would run its query again, through a server-side cursor, each
    # time the form is drawn, and once more to check the value chosen.
    worker = django_filters.ChoiceFilter(label=_("担当者"), method="filter_worker")
    municipality = django_filters.ChoiceFilter(
        label=_("居住市町村"), field_name="client__municipality"
    )
    region = django_filters.ChoiceFilter(label=_("圏域"), field_name="client__municipality__region")
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
        towns = Organisation.objects.filter(kind=Organisation.Kind.MUNICIPALITY)
        self.filters["worker"].extra["choices"] = _named(
            case_workers(user.organisation_id), "username", "display_name"
        )
        self.filters["municipality"].extra["choices"] = _named(towns, "name")
        self.filters["region"].extra["choices"] = _named(Region.objects.all(), "name")

    def filter_code(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        # Codes are upper case (casework.models.CODE_ALPHABET): an exact match on the upper
        # form finds a case by the unique index, where a case-insensitive one reads them all.
        return queryset.filter(code=value.strip().upper())

    def filter_worker(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        # The worker's cases as a list of keys (one query), as `visible_cases` takes the
        # object grants: joined or as a sub-query, PostgreSQL walked every visible case in
        # list order probing the lead-worker table for each (50–80 ms at 50,000 visible
        # cases); with the keys it tests each case against a hash of them (docs/scaling.md).
        assigned = Case.lead_workers.through.objects.filter(user_id=value)
        return queryset.filter(pk__in_array=list(assigned.values_list("case_id", flat=True)))

    def filter_no_contact(self, queryset: QuerySet, name: str, value: int) -> QuerySet:
        if value is None or value < 0:
            return queryset
        # Never contacted counts as long ago (casework.models.last_contact_key): one range
        # of the list's index.
        cutoff = timezone.now() - datetime.timedelta(days=int(value))
        return queryset.filter(LessThan(last_contact_key(), cutoff))
