"""`in_array` (casework.lookups): the same rows as `in`, sent to PostgreSQL as one array."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext

from casework.models import Case
from tests.factories import make_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def three(db):
    return [make_case() for _ in range(3)]


def test_in_array_matches_what_in_matches(three):
    wanted = [three[0].pk, three[2].pk, uuid.uuid4(), None, three[0].pk]
    by_array = set(Case.objects.filter(pk__in_array=wanted).values_list("pk", flat=True))
    by_in = set(Case.objects.filter(pk__in=wanted).values_list("pk", flat=True))
    assert by_array == by_in == {three[0].pk, three[2].pk}


def test_an_empty_list_matches_nothing_and_leaves_an_or_intact(three):
    assert not Case.objects.filter(pk__in_array=[]).exists()
    assert not Case.objects.filter(pk__in_array=[None]).exists()
    either = Case.objects.filter(Q(pk__in_array=[]) | Q(pk=three[1].pk))
    assert list(either.values_list("pk", flat=True)) == [three[1].pk]


@pytest.mark.postgres
def test_postgresql_receives_one_array_parameter(three):
    keys = [case.pk for case in three]
    with CaptureQueriesContext(connection) as captured:
        assert Case.objects.filter(pk__in_array=keys).count() == 3
    (query,) = captured.captured_queries
    assert "= ANY(" in query["sql"] and " IN (" not in query["sql"]
