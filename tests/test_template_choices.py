"""Templates compare a field with its model's choices (`case.Status.CLOSED`), never with a
bare string: Django's Choices are not called by the template engine
(`do_not_call_in_templates`), so the member resolves and compares equal to the stored value."""

from __future__ import annotations

import pytest
from django.template import Context, Template

from casework.models import Case
from meetings.models import Meeting
from outreach.models import Visit
from referrals.models import Referral


def render(source: str, **context: object) -> str:
    return Template(source).render(Context(context)).strip()


@pytest.mark.parametrize(
    ("record", "field", "member", "other"),
    [
        (Case, "status", "CLOSED", "ACTIVE"),
        (Meeting, "status", "PLANNED", "HELD"),
        (Meeting, "kind", "CASE_CONFERENCE", "MDT_MONTHLY"),
        (Visit, "status", "PLANNED", "DONE"),
        (Visit, "status", "IN_PROGRESS", "CANCELLED"),
        (Referral, "status", "DECLINED", "ACCEPTED"),
    ],
)
def test_a_field_compares_equal_to_its_own_choice_and_to_no_other(record, field, member, other):
    choices = getattr(record, field.capitalize())  # Status, Kind
    source = f"{{% if r.{field} == r.{choices.__name__}.{member} %}}yes{{% else %}}no{{% endif %}}"
    assert render(source, r=record(**{field: getattr(choices, member)})) == "yes"
    assert render(source, r=record(**{field: getattr(choices, other)})) == "no"
