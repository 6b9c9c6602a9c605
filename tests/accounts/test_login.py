"""Sign-in and sign-out: Japanese pages, one message for every failure, all audited."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command

from accounts.roles import Role
from audit.models import Action, Event
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.django_db


def test_the_login_page_is_japanese_by_default(client):
    page = client.get("/accounts/login/").content.decode()
    assert 'lang="ja"' in page and "ログイン" in page and "パスワード" in page


def test_english_is_available(client):
    client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    page = client.get("/accounts/login/").content.decode()
    assert 'lang="en"' in page and "Log in" in page


def test_unknown_user_and_wrong_password_get_the_same_answer(client):
    make_user(Role.COUNSELLOR, username="yamada")
    wrong_password = client.post("/accounts/login/", {"username": "yamada", "password": "nope"})
    unknown_user = client.post("/accounts/login/", {"username": "nobody", "password": "nope"})
    assert wrong_password.status_code == unknown_user.status_code == 200
    assert wrong_password.context["form"].errors == unknown_user.context["form"].errors
    assert "ユーザー名またはパスワードが正しくありません。" in wrong_password.content.decode()


def test_login_failed_login_and_logout_are_audited(client):
    make_user(Role.COUNSELLOR, username="tanaka")
    client.post("/accounts/login/", {"username": "tanaka", "password": "wrong"})
    response = client.post("/accounts/login/", {"username": "tanaka", "password": PASSWORD})
    assert response.status_code == 302
    client.post("/accounts/logout/")
    actions = list(Event.objects.values_list("action", "object_ref", "actor_label"))
    assert actions == [
        (Action.LOGIN_FAILED, "tanaka", ""),
        (Action.LOGIN, "tanaka", "tanaka"),
        (Action.LOGOUT, "tanaka", "tanaka"),
    ]
    assert all(len(e.request_id) == 32 for e in Event.objects.all())
    assert Event.objects.filter(source_ip="127.0.0.1").count() == 3


def test_seed_demo_creates_a_user_per_role_who_can_log_in(client):
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    credentials = re.findall(r"^\s+\S+\s+(\w+)\s+(\S+)$", out.getvalue(), re.MULTILINE)
    assert len(credentials) == len(Role)
    for username, password in credentials:
        response = client.post("/accounts/login/", {"username": username, "password": password})
        assert response.status_code == 302, username
        home = client.get("/")
        assert home.status_code == 200
        client.post("/accounts/logout/")

    again = io.StringIO()
    call_command("seed_demo", stdout=again)
    assert "no new users" in again.getvalue()
