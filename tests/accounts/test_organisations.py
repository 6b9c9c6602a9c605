"""Organisations: local government codes with their check digit, readiness as of a date."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from accounts.data import mie
from accounts.models import (
    Organisation,
    local_government_code_check_digit,
    validate_local_government_code,
)


@pytest.mark.parametrize(
    ("five", "check"),
    [("13101", "6"), ("24201", "2"), ("01213", "1"), ("24000", "1"), ("01100", "2")],
)
def test_check_digit_follows_the_published_rule(five, check):
    # Known codes: 千代田区 131016, 津市 242012, 苫小牧市 012131, 三重県 240001, 札幌市 011002.
    assert local_government_code_check_digit(five) == check


def test_every_seeded_mie_municipality_has_a_valid_code():
    assert len(mie.MUNICIPALITIES) == 29
    for code, name, _kana, _kind, region in mie.MUNICIPALITIES:
        validate_local_government_code(code)
        assert region in mie.REGIONS, name


@pytest.mark.parametrize("bad", ["24201", "242013", "24201x", ""])
def test_malformed_codes_are_refused_with_a_japanese_message(bad):
    with pytest.raises(ValidationError) as error:
        validate_local_government_code(bad)
    assert "地方公共団体コード" in str(error.value)


@pytest.mark.django_db
def test_a_municipality_without_a_code_is_refused_by_the_database():
    with pytest.raises(IntegrityError):
        Organisation.objects.create(kind=Organisation.Kind.MUNICIPALITY, name="コードなし町")


@pytest.mark.django_db
def test_readiness_as_of_a_date_and_its_history_is_kept():
    town = Organisation.objects.create(
        kind=Organisation.Kind.MUNICIPALITY, name="試験町", local_government_code="242012"
    )
    town.consultation_window_established_on = datetime.date(2024, 6, 1)
    town.save()
    assert (
        town.readiness_as_of(datetime.date(2024, 5, 31))["consultation_window_established_on"]
        is False
    )
    assert (
        town.readiness_as_of(datetime.date(2024, 6, 1))["consultation_window_established_on"]
        is True
    )
    assert town.history.count() == 2
