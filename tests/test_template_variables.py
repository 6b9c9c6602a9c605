"""The suite refuses a template that names a variable nobody passed (pyproject.toml runs
pytest-django with --fail-on-template-vars): the meeting page once included a form the
view never passed and rendered it with no fields."""

from __future__ import annotations

import pytest
from django.template import engines


def render(source: str, context: dict) -> str:
    return engines["django"].from_string(source).render(context)


def test_a_form_the_view_never_passed_fails_the_test_that_renders_it():
    with pytest.raises(pytest.fail.Exception, match="attendees_form"):
        render('{% include "form.html" with form=attendees_form %}', {})


def test_default_does_not_hide_a_missing_name_but_firstof_and_if_do():
    with pytest.raises(pytest.fail.Exception, match=r"case\.client\.code"):
        render('{{ case.client.code|default:"—" }}', {"case": {"client": None}})
    assert render('{% firstof case.client.code "—" %}', {"case": {"client": None}}) == "—"
    assert render("{% if case.client.code %}x{% else %}—{% endif %}", {"case": {}}) == "—"
