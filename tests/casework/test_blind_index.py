"""The blind index finds equal identities without storing or comparing plaintext."""

from __future__ import annotations

import datetime

import pytest

from casework import crypto
from casework.models import Client
from tests.factories import make_client, make_organisation

pytestmark = pytest.mark.django_db


def test_kana_and_birth_date_match_across_ways_of_writing_them():
    org = make_organisation()
    first = make_client(
        organisation=org, name_kana="ヤマダ タロウ", birth_date=datetime.date(1995, 3, 2)
    )
    # Hiragana, half-width katakana and no space all mean the same person.
    for spelling in ("やまだ たろう", "ﾔﾏﾀﾞﾀﾛｳ", "ヤマダ　タロウ"):
        other = make_client(
            organisation=org, name_kana=spelling, birth_date=datetime.date(1995, 3, 2)
        )
        assert other.kana_birth_index == first.kana_birth_index, spelling
    born_later = make_client(
        organisation=org, name_kana="ヤマダ タロウ", birth_date=datetime.date(1995, 3, 3)
    )
    assert born_later.kana_birth_index != first.kana_birth_index
    matches = Client.objects.filter(kana_birth_index=first.kana_birth_index)
    assert matches.count() == 4


def test_phone_numbers_match_whatever_their_punctuation():
    a = make_client(phone="090-1234-5678")
    b = make_client(phone="０９０（１２３４）５６７８")
    assert a.phone_index == b.phone_index
    assert make_client(phone=None).phone_index is None


def test_the_index_is_keyed_and_never_the_plain_hash(settings):
    person = make_client(phone="0312345678")
    settings.BLIND_INDEX_KEY = crypto.generate_key()
    again = make_client(phone="0312345678")
    assert again.phone_index != person.phone_index
    import hashlib

    assert person.phone_index != hashlib.sha256(b"0312345678").hexdigest()
