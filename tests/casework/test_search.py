"""Finding a case by the caller's name in kana, phone or birth date (casework.search):
written as people write them, only cases the user may see, the terms never kept."""

from __future__ import annotations

import datetime
import logging

import pytest
from django.db import connection
from django.urls import reverse

from accounts.roles import Role
from audit.models import Event
from casework import services
from casework.search import Terms, reindex_clients, search_cases

pytestmark = pytest.mark.django_db

BORN = datetime.date(1994, 7, 3)
URL = reverse("casework:case_search")


def _open(actor, kana, case_fields=None, **identity):
    return services.open_case(
        actor,
        identity={"name": "検索 試験", "name_kana": kana, **identity},
        case_fields=case_fields,
        confirm_duplicate=True,
    )


@pytest.fixture
def yuko(world):
    """ヤマダ ユウコ, born 3 July 1994, with a mobile number, at the centre."""
    return _open(world.counsellor, "ヤマダ ユウコ", birth_date=BORN, phone="090-1234-5678")


def _codes(cases) -> set[str]:
    return {case.code for case in cases}


@pytest.mark.parametrize(
    "typed",
    [
        "ヤマダ ユウコ",
        "やまだゆうこ",  # hiragana, no space
        "ﾔﾏﾀﾞ ﾕｳｺ",  # half-width
        "ヤマダ　ユーコ",  # full-width space, long vowel mark
        "やまだ ゆーこ",
        "ヤマダ",  # the family name alone
        "ﾔﾏﾀﾞ",
    ],
)
def test_the_name_is_found_however_it_is_typed(world, yuko, typed):
    assert _codes(search_cases(world.counsellor, Terms(kana=typed))) == {yuko.code}


def test_a_partial_or_different_name_finds_nothing(world, yuko):
    for typed in ("ヤマ", "ヤマダ ユ", "ヤマダ ケイコ", "ユウコ"):
        assert search_cases(world.counsellor, Terms(kana=typed)) == [], typed


def test_small_kana_and_long_vowels_fold(world):
    kyoko = _open(world.counsellor, "オオノ キョウコ")
    for typed in ("オーノ キョーコ", "おうの きようこ", "ｵｵﾉ ｷｮｳｺ"):
        assert _codes(search_cases(world.counsellor, Terms(kana=typed))) == {kyoko.code}, typed


def test_phone_and_birth_date_find_it_alone_and_narrow_together(world, yuko):
    namesake = _open(world.counsellor, "ヤマダ ユウコ", birth_date=datetime.date(2001, 1, 1))
    assert _codes(search_cases(world.counsellor, Terms(phone="０９０（１２３４）５６７８"))) == {
        yuko.code
    }
    assert _codes(search_cases(world.counsellor, Terms(birth_date=BORN))) == {yuko.code}
    both = _codes(search_cases(world.counsellor, Terms(kana="やまだ ゆうこ")))
    assert both == {yuko.code, namesake.code}
    narrowed = search_cases(world.counsellor, Terms(kana="やまだ ゆうこ", birth_date=BORN))
    assert _codes(narrowed) == {yuko.code}
    assert search_cases(world.counsellor, Terms(kana="やまだ ゆうこ", phone="0000000000")) == []


def test_cases_the_user_may_not_see_are_never_found(world, yuko):
    other = world.user(Role.COUNSELLOR, organisation=world.other)
    elsewhere = _open(other, "ヤマダ ユウコ", birth_date=BORN)
    hidden = _open(
        world.counsellor, "ヤマダ ユウコ", case_fields={"restricted": True}, birth_date=BORN
    )
    terms = Terms(kana="ヤマダ ユウコ", birth_date=BORN)
    from casework.selectors import visible_cases

    for user in (world.counsellor, world.colleague, world.supervisor, other):
        found = _codes(search_cases(user, terms))
        assert found == found & set(visible_cases(user).values_list("code", flat=True))
    assert elsewhere.code not in _codes(search_cases(world.counsellor, terms))
    assert yuko.code not in _codes(search_cases(other, terms))
    assert _codes(search_cases(other, terms)) == {elsewhere.code}
    assert hidden.code in _codes(search_cases(world.counsellor, terms))  # its lead worker
    assert hidden.code not in _codes(search_cases(world.colleague, terms))


@pytest.mark.parametrize("role", [*Role])
def test_every_role_through_http_gets_only_visible_cases_or_403(client, world, yuko, role):
    from casework.selectors import visible_cases

    user = world.user(role)
    client.force_login(user)
    response = client.post(URL, {"name_kana": "やまだ", "phone": "", "birth_date": ""})
    if not (user.has_perm("casework.view_case") and user.has_perm("casework.reveal_identity")):
        assert response.status_code == 403
        return
    assert response.status_code == 200
    found = {case.code for case in response.context["cases"]}
    assert found <= set(visible_cases(user).values_list("code", flat=True))
    assert (yuko.code in found) == visible_cases(user).filter(pk=yuko.pk).exists()


def test_the_page_refuses_an_empty_search_and_a_phone_without_digits(client, world, yuko):
    client.force_login(world.counsellor)
    page = client.get(URL)
    assert page.status_code == 200 and page.context["cases"] is None
    empty = client.post(URL, {"name_kana": " ", "phone": "", "birth_date": ""})
    assert empty.status_code == 400
    assert "いずれかを入れてください" in empty.content.decode()
    letters = client.post(URL, {"name_kana": "", "phone": "でんわ", "birth_date": ""})
    assert letters.status_code == 400 and "数字で" in letters.content.decode()
    found = client.post(URL, {"name_kana": "ﾔﾏﾀﾞ ﾕｰｺ", "phone": "", "birth_date": "1994-07-03"})
    assert found.status_code == 200 and yuko.code in found.content.decode()


def test_the_terms_are_stored_nowhere_in_clear(client, world, yuko, caplog):
    term, phone = "ケンサクタロウ", "0311112222"
    client.force_login(world.counsellor)
    with caplog.at_level(logging.DEBUG):
        client.post(URL, {"name_kana": term, "phone": phone, "birth_date": "1980-02-29"})
    event = Event.objects.filter(object_ref="search").latest("pk")
    assert event.detail == {"terms": ["kana", "phone", "birth_date"], "found": 0}
    forms = (term, "けんさくたろう", "けんさくたろ", phone, "1980-02-29")
    assert not any(f in caplog.text for f in forms)
    # Every text column of every table, read as the database holds it.
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            columns = [
                c.name for c in connection.introspection.get_table_description(cursor, table)
            ]
            for column in columns:
                for form in forms:
                    cursor.execute(
                        f'SELECT COUNT(*) FROM "{table}" WHERE CAST("{column}" AS TEXT) LIKE %s',
                        [f"%{form}%"],
                    )
                    assert cursor.fetchone()[0] == 0, (table, column, form)


def test_reindexing_recomputes_what_a_save_computes(world, yuko):
    from casework.models import Client

    client = Client.objects.unscoped().get(pk=yuko.client_id)
    saved = (client.kana_index, client.family_kana_index, client.birth_index, client.phone_index)
    assert all(saved)
    Client.objects.unscoped().update(kana_index=None, family_kana_index=None, birth_index=None)
    assert search_cases(world.counsellor, Terms(kana="ヤマダ")) == []
    assert reindex_clients() == Client.objects.unscoped().count()
    client.refresh_from_db()
    assert (
        client.kana_index,
        client.family_kana_index,
        client.birth_index,
        client.phone_index,
    ) == saved
    assert _codes(search_cases(world.counsellor, Terms(kana="ヤマダ"))) == {yuko.code}


def test_the_duplicate_check_folds_names_as_the_search_does(world, yuko):
    from casework.selectors import find_duplicates

    check = find_duplicates(world.counsellor, name_kana="ヤマダ ユーコ", birth_date=BORN)
    assert yuko.code in {case.code for case in check.same_organisation}


def test_voiced_dots_on_chi_and_tsu_fold_and_a_long_list_says_it_is_cut(client, world):
    from casework.search import LIMIT

    mizuno = _open(world.counsellor, "ミヅノ ハナ")
    assert _codes(search_cases(world.counsellor, Terms(kana="みずの はな"))) == {mizuno.code}
    for i in range(LIMIT + 1):
        _open(world.counsellor, f"タナカ {chr(ord('ア') + 2 * (i % 20))}{i}")
    client.force_login(world.counsellor)
    page = client.post(URL, {"name_kana": "たなか", "phone": "", "birth_date": ""})
    assert len(page.context["cases"]) == LIMIT
    assert f"最初の{LIMIT}件だけ" in page.content.decode()


@pytest.mark.parametrize("role", [Role.STATISTICS_VIEWER, Role.AUDITOR, Role.MDT_MEMBER])
def test_the_search_itself_refuses_roles_that_may_not_reveal_identity(world, yuko, role):
    """Not only the page: any caller of the search (an API, a command) gets the refusal."""
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        search_cases(world.user(role), Terms(kana="ヤマダ"))
    assert not Event.objects.filter(object_ref="search").exists()
