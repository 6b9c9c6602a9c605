"""Cells become values: Japanese and era dates, numbers stored as text, Japanese choices."""

from __future__ import annotations

import datetime

import pytest

from casework.models import Channel, Consulter, Gender
from casework.periods import AgeBand
from imports import columns, values

D = datetime.date


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("R6.4.1", D(2024, 4, 1)),
        ("R6/4/1", D(2024, 4, 1)),
        ("r6.4.1", D(2024, 4, 1)),
        ("令和6年4月1日", D(2024, 4, 1)),
        ("令和元年5月1日", D(2019, 5, 1)),
        ("R1.5.1", D(2019, 5, 1)),
        ("H31.4.30", D(2019, 4, 30)),
        ("平成31年4月30日", D(2019, 4, 30)),
        ("平成元年1月8日", D(1989, 1, 8)),
        ("S64.1.7", D(1989, 1, 7)),
        ("昭和50年12月3日", D(1975, 12, 3)),
        ("2024/4/1", D(2024, 4, 1)),
        ("2024-04-01", D(2024, 4, 1)),
        ("2024年4月1日", D(2024, 4, 1)),
        ("２０２４／４／１", D(2024, 4, 1)),
        ("Ｒ６．４．１", D(2024, 4, 1)),
        ("令和６年４月１日", D(2024, 4, 1)),
        (" 2024/4/1 ", D(2024, 4, 1)),
        (datetime.datetime(2024, 4, 1), D(2024, 4, 1)),  # noqa: DTZ001 (a cell has no zone)
        (datetime.datetime(2024, 4, 1, 10, 30), D(2024, 4, 1)),  # noqa: DTZ001
        (D(2024, 4, 1), D(2024, 4, 1)),
        (45383, D(2024, 4, 1)),  # an Excel serial number left unformatted
        (45383.0, D(2024, 4, 1)),
    ],
)
def test_dates_are_read_in_every_form_the_old_spreadsheets_use(cell, expected):
    assert values.date(cell) == expected


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("R6.2.30", "存在しない日付"),
        ("令和6年2月30日", "存在しない日付"),
        ("2023/2/29", "存在しない日付"),
        ("H31.5.1", "平成の期間外"),
        ("R1.4.30", "令和の期間外"),
        ("令和0年4月1日", "和暦の年"),
        ("平成元年1月7日", "平成の期間外"),
        ("X6.4.1", "日付として読めません"),
        ("4/1", "日付として読めません"),
        ("24/4/1", "日付として読めません"),
        ("きのう", "日付として読めません"),
        (30, "日付として読めません"),
        (True, "日付として読めません"),
    ],
)
def test_impossible_or_unreadable_dates_are_refused_with_a_japanese_message(cell, message):
    with pytest.raises(values.CellError) as raised:
        values.date(cell)
    assert message in raised.value.message


def test_a_date_with_a_time_keeps_the_time_for_contacts():
    naive = datetime.datetime(2024, 4, 1, 14, 5)  # noqa: DTZ001 (local time, as in the cell)
    assert values.date_or_datetime("2024/4/1 14:05") == naive
    assert values.date_or_datetime("R6.4.1") == D(2024, 4, 1)


def test_future_dates_are_refused_where_a_past_date_is_needed():
    with pytest.raises(values.CellError, match="未来"):
        values.past_date("2999/1/1")


@pytest.mark.parametrize(
    ("cell", "minutes"),
    [
        (30, 30),
        (30.0, 30),
        ("30", 30),
        ("３０", 30),
        ("30分", 30),
        ("30.0", 30),
        ("1時間30分", 90),
        ("0", 0),
        ("1440", 1440),
    ],
)
def test_minutes_stored_as_text_or_float_are_numbers(cell, minutes):
    assert values.minutes(cell) == minutes


@pytest.mark.parametrize("cell", ["半時間", "-5", "1441", "12.5", "三十"])
def test_minutes_that_are_not_a_whole_number_in_a_day_are_refused(cell):
    with pytest.raises(values.CellError):
        values.minutes(cell)


@pytest.mark.parametrize(
    ("cell", "channel"),
    [
        ("電話", Channel.PHONE),
        ("来所", Channel.CENTRE_VISIT),
        ("訪問", Channel.HOME_VISIT),
        ("家庭訪問", Channel.HOME_VISIT),
        ("メール", Channel.EMAIL),
        ("オンライン", Channel.ONLINE),
        ("同行", Channel.ACCOMPANIMENT),
        ("同行支援", Channel.ACCOMPANIMENT),
        ("phone", Channel.PHONE),
    ],
)
def test_channels_in_japanese(cell, channel):
    assert columns.CHANNEL(cell) == channel


@pytest.mark.parametrize(
    ("cell", "consulter"),
    [
        ("本人", Consulter.SELF),
        ("母", Consulter.PARENT),
        ("父", Consulter.PARENT),
        ("両親", Consulter.PARENT),
        ("親", Consulter.PARENT),
        ("兄", Consulter.SIBLING),
        ("妹", Consulter.SIBLING),
        ("きょうだい", Consulter.SIBLING),
        ("配偶者", Consulter.SPOUSE),
        ("祖父母", Consulter.OTHER_FAMILY),
        ("その他の家族", Consulter.OTHER_FAMILY),
        ("関係機関", Consulter.AGENCY),
        ("機関", Consulter.AGENCY),
    ],
)
def test_consulters_in_japanese(cell, consulter):
    assert columns.CONSULTER(cell) == consulter


@pytest.mark.parametrize(
    ("cell", "band"),
    [
        ("10代", AgeBand.UNDER_20),
        ("20代", AgeBand.TWENTIES),
        ("30歳代", AgeBand.THIRTIES),
        ("４０代", AgeBand.FORTIES),
        ("50代後半", AgeBand.FIFTIES),
        ("60代以上", AgeBand.SIXTY_PLUS),
        ("70代", AgeBand.SIXTY_PLUS),
        ("不明", AgeBand.UNKNOWN),
        (34, AgeBand.THIRTIES),
    ],
)
def test_age_bands(cell, band):
    assert values.age_band(cell) == band


def test_gender_and_first_or_continuing():
    assert columns.GENDER("男") == columns.GENDER("男性") == Gender.MALE
    assert columns.GENDER("女") == columns.GENDER("女性") == Gender.FEMALE
    assert columns.CONTACT_KIND("新規") == "first"
    assert columns.CONTACT_KIND("継続") == "continuing"


def test_an_unknown_choice_lists_the_choices_without_repeating_the_cell():
    with pytest.raises(values.CellError) as raised:
        columns.CHANNEL("伝書鳩")
    assert "電話" in raised.value.message
    assert "伝書鳩" not in raised.value.message


def test_japanese_words_are_read_whatever_the_screen_language():
    from django.utils import translation

    with translation.override("en"):
        assert columns.WITHDRAWAL("6か月未満") == "u6m"
        assert columns.WITHDRAWAL("１年～３年未満") == "1y_3y"
        assert columns.STATUS("見守り") == "monitoring"
        assert values.age_band("20代") == AgeBand.TWENTIES
