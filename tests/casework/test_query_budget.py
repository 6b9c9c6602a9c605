"""The case list and case detail run a fixed number of queries, whatever the data size."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from casework.models import Case, Contact, DataKey, new_code

pytestmark = pytest.mark.django_db

LIST_BUDGET = 12  # measured 12: session, user, permissions, grants, filters, count, page, workers
# Measured 18 on SQLite (referral, visit and meeting events included; the user's object
# grants are one query of visible_cases); PostgreSQL adds the audit lock.
DETAIL_BUDGET = 19


def add_cases(org, worker, count):
    keys = DataKey.objects.bulk_create([DataKey.new() for _ in range(count)])
    cases = Case.objects.bulk_create(
        [Case(organisation=org, data_key=key, code=new_code("C"), summary="概要") for key in keys]
    )
    Case.lead_workers.through.objects.bulk_create(
        [Case.lead_workers.through(case=case, user=worker) for case in cases]
    )
    return cases


def add_contacts(case, worker, count):
    start = timezone.now() - datetime.timedelta(days=count)
    Contact.objects.bulk_create(
        [
            Contact(
                case=case,
                data_key_id=case.data_key_id,
                organisation=case.organisation,
                staff=worker,
                occurred_at=start + datetime.timedelta(days=i),
                summary=f"記録{i}",
            )
            for i in range(count)
        ]
    )


def queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize("view", ["list", "detail"])
def test_query_count_does_not_grow_with_data(client, world, view, django_assert_max_num_queries):
    client.force_login(world.counsellor)
    small = add_cases(world.centre, world.counsellor, 10)
    add_contacts(small[0], world.counsellor, 10)
    url = (
        reverse("casework:case_list")
        if view == "list"
        else reverse("casework:case_detail", kwargs={"code": small[0].code})
    )
    counted_small = queries(client, url)

    big = add_cases(world.centre, world.counsellor, 490)  # 500 cases in all
    add_contacts(small[0], world.counsellor, 490)  # 500 contacts on the case
    counted_big = queries(client, url)

    assert counted_big == counted_small
    with django_assert_max_num_queries(LIST_BUDGET if view == "list" else DETAIL_BUDGET):
        client.get(url)
    assert len(big) == 490
