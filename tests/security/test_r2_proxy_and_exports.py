"""Security round 2, findings 7, 8, 10 (cross-site reads) and 11 (Permissions-Policy).

7: behind the TLS proxy every client resolved to no address, so five failed logins from
anyone locked out everyone, and the lockout screen listed nothing to lift.
8: a user name typed at the login form reached the auditors' CSV export verbatim and
unescaped (=HYPERLINK(...)), and an unknown typed name (often a password) was kept.
10: a GET that records an audit event (case view, export) could be triggered from another
site with the victim's cookies.
11: no Permissions-Policy header.

Each attack goes through HTTP with the real login form, the real lockout (django-axes)
and the real audit chain. The proxy is simulated as it reaches the application: the
connection comes from the proxy's address and X-Forwarded-For names the client.
"""

from __future__ import annotations

import base64
import csv
import io
import os
import re
import runpy
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any
from unittest import mock

import openpyxl
import pytest
from django.conf import settings as django_settings
from django.urls import reverse

from accounts.roles import Role
from api.models import ApiToken
from audit.models import Action, Event
from tabular import Table, to_csv, to_xlsx
from tests.factories import PASSWORD, make_case, make_organisation, make_user

LOGIN = "/accounts/login/"
PROXY = "10.0.0.254"  # the TLS proxy as the application sees the connection
ATTACKER = "203.0.113.5"
COLLEAGUE = "198.51.100.7"


# ---------------------------------------------------------------------------------------
# The deployment behind the proxy


def _settings_from_environment(extra: dict[str, str]) -> dict[str, Any]:
    """What config/settings.py produces when the environment also holds `extra`."""
    with mock.patch.dict(os.environ, extra):
        namespace = runpy.run_path(str(Path(django_settings.BASE_DIR) / "config" / "settings.py"))
    return {name: value for name, value in namespace.items() if name.isupper()}


@pytest.fixture
def behind_proxy(settings):
    """The settings of a deployment with BEHIND_TLS_PROXY=true: every setting that the
    variable changes, as the settings module computes it."""
    plain = _settings_from_environment({})
    proxied = _settings_from_environment({"BEHIND_TLS_PROXY": "true"})
    for name, value in proxied.items():
        if plain.get(name) != value:
            setattr(settings, name, value)
    return settings


def via_proxy(client, method: str, path: str, forwarded_for: str, data=None):
    """A request as the proxy passes it on: from the proxy, naming the client."""
    send = getattr(client, method)
    return send(
        path,
        data or {},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=forwarded_for,
        HTTP_X_FORWARDED_PROTO="https",
    )


def login(client, username: str, password: str, forwarded_for: str):
    credentials = {"username": username, "password": password}
    return via_proxy(client, "post", LOGIN, forwarded_for, credentials)


# ---------------------------------------------------------------------------------------
# Finding 7: lockout behind the proxy


@pytest.mark.django_db
def test_behind_the_proxy_five_failures_lock_that_client_and_not_another(client, behind_proxy):
    make_user(Role.COUNSELLOR, username="sato")
    answers = [login(client, f"guess{n}", "wrong", ATTACKER).status_code for n in range(5)]
    assert answers == [200, 200, 200, 200, 429]
    # The attacker's source is locked, even with a right password...
    assert login(client, "sato", PASSWORD, ATTACKER).status_code == 429
    # ...and a colleague behind the same proxy signs in.
    assert login(client, "sato", PASSWORD, COLLEAGUE).status_code == 302


@pytest.mark.django_db
def test_forged_addresses_left_of_the_proxy_entry_do_not_escape_the_lockout(client, behind_proxy):
    make_user(Role.COUNSELLOR, username="sato")
    for n in range(5):
        # The client sends its own X-Forwarded-For; the proxy appends the real address.
        login(client, f"guess{n}", "wrong", f"192.0.2.{n}, {ATTACKER}")
    assert login(client, "sato", PASSWORD, f"192.0.2.99, {ATTACKER}").status_code == 429
    assert login(client, "sato", PASSWORD, COLLEAGUE).status_code == 302


@pytest.mark.django_db
def test_behind_the_proxy_five_failures_lock_the_account_from_every_client(client, behind_proxy):
    make_user(Role.COUNSELLOR, username="sato")
    make_user(Role.COUNSELLOR, username="suzuki")
    for n in range(5):
        login(client, "sato", "wrong", f"192.0.2.{n + 10}")
    assert login(client, "sato", PASSWORD, COLLEAGUE).status_code == 429
    assert login(client, "suzuki", PASSWORD, COLLEAGUE).status_code == 302


@pytest.mark.django_db
def test_behind_the_proxy_audit_events_carry_the_client_address(client, behind_proxy):
    org = make_organisation()
    user = make_user(Role.COUNSELLOR, organisation=org, username="sato")
    case = make_case(organisation=org)
    login(client, "sato", "wrong", ATTACKER)
    assert login(client, "sato", PASSWORD, COLLEAGUE).status_code == 302
    via_proxy(client, "get", reverse("casework:case_detail", args=[case.code]), COLLEAGUE)
    via_proxy(client, "post", reverse("accounts:logout"), COLLEAGUE)
    for n in range(5):
        login(client, f"guess{n}", "wrong", f"192.0.2.77, {ATTACKER}")

    assert Event.objects.get(action=Action.LOGIN_FAILED, object_ref="sato").source_ip == ATTACKER
    assert Event.objects.get(action=Action.LOGIN, actor_id=user.pk).source_ip == COLLEAGUE
    assert Event.objects.get(action=Action.VIEW, object_ref=case.code).source_ip == COLLEAGUE
    assert Event.objects.get(action=Action.LOGOUT).source_ip == COLLEAGUE
    assert Event.objects.get(action=Action.LOCKOUT).source_ip == ATTACKER
    assert not Event.objects.filter(source_ip=PROXY).exists()


@pytest.mark.django_db
def test_a_header_shorter_than_the_trusted_count_trusts_no_forwarded_entry(client, behind_proxy):
    # Two proxies are configured, but this request passed only one (or none): none of
    # its X-Forwarded-For entries is vouched for, so the direct peer is the source.
    behind_proxy.TRUSTED_PROXY_COUNT = 2
    make_user(Role.COUNSELLOR, username="sato")
    for n in range(5):
        login(client, f"guess{n}", "wrong", f"192.0.2.{n}")
    assert {e.source_ip for e in Event.objects.filter(action=Action.LOGIN_FAILED)} == {PROXY}
    # Rotating the unvouched entry does not give a fresh bucket.
    assert login(client, "sato", PASSWORD, "192.0.2.200").status_code == 429
    # A request through both proxies is resolved to its client.
    assert login(client, "sato", PASSWORD, f"{COLLEAGUE}, 10.0.0.253").status_code == 302


@pytest.mark.django_db
def test_the_lockout_screen_lists_and_lifts_locked_clients_and_accounts(client, behind_proxy):
    org = make_organisation()
    make_user(Role.COUNSELLOR, organisation=org, username="sato")
    supervisor = make_user(Role.SUPERVISOR, organisation=org)
    outsider = make_user(Role.SUPERVISOR, organisation=make_organisation())
    admin = make_user(Role.SYSTEM_ADMIN, organisation=make_organisation())
    for n in range(5):  # the account, from five clients
        login(client, "sato", "wrong", f"192.0.2.{n + 10}")
    for n in range(5):  # a client, with five names that belong to nobody
        login(client, f"guess{n}", "wrong", ATTACKER)
    page = reverse("accounts:lockouts")

    client.force_login(outsider)
    listed = client.get(page).content.decode()
    assert "sato" not in listed and ATTACKER not in listed

    client.force_login(supervisor)
    listed = client.get(page).content.decode()
    assert "sato" in listed
    assert ATTACKER not in listed  # a source that tried other names is for administrators

    client.force_login(admin)
    listed = client.get(page).content.decode()
    assert "sato" in listed and ATTACKER in listed
    assert "guess" not in listed  # unknown typed names are not shown, not even in the list

    unlock = reverse("accounts:unlock")
    account = {"kind": "username", "value": "sato"}
    source = {"kind": "address", "value": ATTACKER}
    client.force_login(outsider)
    assert client.post(unlock, account).status_code == 404
    client.force_login(supervisor)
    assert client.post(unlock, account).status_code == 302
    assert client.post(unlock, source).status_code == 404
    client.force_login(admin)
    assert client.post(unlock, source).status_code == 302
    assert Event.objects.filter(action=Action.UNLOCK, object_ref="sato").exists()
    assert Event.objects.filter(action=Action.UNLOCK, detail__ip_address=ATTACKER).exists()

    client.logout()
    assert login(client, "sato", PASSWORD, COLLEAGUE).status_code == 302
    client.logout()
    assert login(client, "sato", PASSWORD, ATTACKER).status_code == 302


def _check_settings(tmp_path, **environment: str) -> subprocess.CompletedProcess:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "SECRET_KEY": secrets.token_urlsafe(50),
        "FIELD_ENCRYPTION_KEYS": "k1:" + base64.b64encode(os.urandom(32)).decode(),
        "BLIND_INDEX_KEY": base64.b64encode(os.urandom(32)).decode(),
        "DEBUG": "false",
        "ALLOWED_HOSTS": "casework.example.org",
        "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
        **environment,
    }
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        capture_output=True,
        text=True,
        env=env,
        cwd=django_settings.BASE_DIR,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    "environment",
    [
        {"BEHIND_TLS_PROXY": "true", "TRUSTED_PROXY_COUNT": "0"},
        {"BEHIND_TLS_PROXY": "true", "TRUSTED_PROXY_COUNT": "one"},
        {"BEHIND_TLS_PROXY": "ture"},
        {"TRUSTED_PROXY_COUNT": "1"},  # a proxy count without the proxy
    ],
    ids=["count-zero", "count-not-a-number", "flag-misspelt", "count-without-proxy"],
)
def test_settings_refuse_to_start_when_the_client_address_cannot_be_resolved(tmp_path, environment):
    result = _check_settings(tmp_path, **environment)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "TRUSTED_PROXY_COUNT" in result.stderr or "BEHIND_TLS_PROXY" in result.stderr


def test_settings_behind_the_proxy_start_with_the_default_count(tmp_path):
    result = _check_settings(tmp_path, BEHIND_TLS_PROXY="true")
    assert result.returncode == 0, result.stderr


# ---------------------------------------------------------------------------------------
# Finding 8: formula injection in exports, and typed names kept verbatim

HYPERLINK = '=HYPERLINK("http://x","y")'
FORMULA_LEAD = re.compile(r"^[\s\u3000\ufeff\u200b]*[=+\-@|＝＋－＠｜]|^[\t\r\n]")


def _export_rows(client) -> list[list[str]]:
    export = client.get(reverse("audit:export"))
    assert export.status_code == 200
    return list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))


@pytest.mark.django_db
def test_a_formula_typed_as_user_name_never_reaches_the_audit_export_or_the_tables(client):
    assert client.post(LOGIN, {"username": HYPERLINK, "password": "wrong"}).status_code == 200
    client.force_login(make_user(Role.AUDITOR, organisation=make_organisation()))
    rows = _export_rows(client)

    assert not any("HYPERLINK" in cell for row in rows for cell in row)
    assert not any(FORMULA_LEAD.match(cell) for row in rows for cell in row)
    assert Event.objects.filter(action=Action.LOGIN_FAILED).count() == 1
    # Nowhere else either: not in the audit chain, not in the lockout tables.
    from axes.models import AccessAttempt

    assert not Event.objects.filter(object_ref__contains="HYPERLINK").exists()
    for attempt in AccessAttempt.objects.values():
        assert not any("HYPERLINK" in str(value) for value in attempt.values())


@pytest.mark.django_db
def test_a_formula_in_an_existing_account_name_is_escaped_in_the_audit_export(client):
    make_user(Role.COUNSELLOR, username="-2+3")  # a valid Django user name, and a formula
    make_user(Role.COUNSELLOR, username="@sum")
    client.post(LOGIN, {"username": "-2+3", "password": "wrong"})
    client.post(LOGIN, {"username": "@sum", "password": "wrong"})
    client.force_login(make_user(Role.AUDITOR, organisation=make_organisation()))
    cells = [cell for row in _export_rows(client) for cell in row]
    assert "'-2+3" in cells and "'@sum" in cells
    assert not any(FORMULA_LEAD.match(cell) for cell in cells)


@pytest.mark.django_db
def test_an_unknown_name_locks_like_an_existing_one(client):
    # The per-name lockout keeps working for typed names that are kept only as digests,
    # so the lockout does not tell an attacker which names exist.
    make_user(Role.COUNSELLOR, username="sato")
    unknown = [
        client.post(LOGIN, {"username": "nosuch", "password": "x"}, REMOTE_ADDR=f"192.0.2.{n}")
        for n in range(5)
    ]
    known = [
        client.post(LOGIN, {"username": "sato", "password": "x"}, REMOTE_ADDR=f"192.0.2.{n + 10}")
        for n in range(5)
    ]
    assert [r.status_code for r in unknown] == [r.status_code for r in known]
    assert unknown[-1].status_code == 429


LEADING_FORMS = [
    "=1+1",
    "+1",
    "-1",
    "@SUM(A1)",
    "\t=1",
    "\r=1",
    "\n=1",
    " =1",
    "   +cmd",
    "\u3000=1",
    " \u3000\t-1",
    "＝1+1",
    "＋1",
    "－1",
    "＠SUM(A1)",
    "\u3000＝1",
    "|cmd",
    "\tplain",
]


@pytest.mark.parametrize("text", LEADING_FORMS, ids=repr)
def test_every_leading_formula_form_is_escaped_in_csv_and_xlsx(text):
    table = Table(title="t", heading=[text], columns=[text], rows=[[text, 1]], notes=[text])
    csv_cells = [
        cell for row in csv.reader(io.StringIO(to_csv([table]).decode("utf-8-sig"))) for cell in row
    ]
    assert csv_cells.count("'" + text) == 4, csv_cells

    sheet = openpyxl.load_workbook(io.BytesIO(to_xlsx([table], "s"))).active
    cells = [c for row in sheet.iter_rows() for c in row if isinstance(c.value, str)]
    as_stored = ("'" + text).replace("\r", "\n")  # XML turns a carriage return into \n
    assert [c.value for c in cells].count(as_stored) == 4
    assert all(c.data_type == "s" for c in cells)


@pytest.mark.parametrize("text", ["abc", "1-2", "a=b", "相談", "", "'quoted"])
def test_ordinary_text_is_left_alone(text):
    table = Table(title="t", heading=[], columns=["c"], rows=[[text]])
    rows = list(csv.reader(io.StringIO(to_csv([table]).decode("utf-8-sig"))))
    assert rows[-1] == [text]


def test_every_spreadsheet_writer_is_the_table_renderer():
    """One escaping function: no module but tabular writes CSV or XLSX (benchmarks write
    import fixtures, tests read and write files of their own)."""
    root = Path(django_settings.BASE_DIR)
    writers = re.compile(r"csv\.(writer|DictWriter)\(|\bWorkbook\(|write_only")
    offenders = []
    for path in root.rglob("*.py"):
        relative = path.relative_to(root)
        if relative.parts[0] in {".venv", "tests", "benchmarks", "tabular"}:
            continue
        if writers.search(path.read_text(encoding="utf-8")):
            offenders.append(str(relative))
    assert offenders == []


# ---------------------------------------------------------------------------------------
# Finding 10: audit events by GET cannot be triggered from another site

CROSS_SITE_NAVIGATION = {
    "HTTP_SEC_FETCH_SITE": "cross-site",
    "HTTP_SEC_FETCH_MODE": "navigate",
    "HTTP_SEC_FETCH_DEST": "document",
}


@pytest.fixture
def case_world(world):
    counsellor = world.counsellor
    case = make_case(organisation=world.centre)
    return counsellor, case, reverse("casework:case_detail", args=[case.code])


def _views(case) -> int:
    return Event.objects.filter(action=Action.VIEW, object_ref=case.code).count()


def test_a_cross_site_navigation_to_a_case_shows_a_page_to_continue_and_records_nothing(
    client, case_world
):
    counsellor, case, url = case_world
    client.force_login(counsellor)
    response = client.get(url, **CROSS_SITE_NAVIGATION)
    assert _views(case) == 0
    assert response.status_code == 403
    page = response.content.decode()
    assert "他のサイト" in page
    assert f'href="{url}"' in page  # continue on this site: a same-origin request

    followed = client.get(url, HTTP_SEC_FETCH_SITE="same-origin", HTTP_SEC_FETCH_MODE="navigate")
    assert followed.status_code == 200
    assert _views(case) == 1


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_SEC_FETCH_SITE": "cross-site", "HTTP_SEC_FETCH_MODE": "no-cors"},
        {"HTTP_SEC_FETCH_SITE": "cross-site", "HTTP_SEC_FETCH_MODE": "cors"},
        {"HTTP_SEC_FETCH_SITE": "same-site", "HTTP_SEC_FETCH_MODE": "no-cors"},
        {**CROSS_SITE_NAVIGATION, "HTTP_SEC_FETCH_DEST": "iframe"},
    ],
    ids=["image", "fetch", "same-site-image", "frame"],
)
def test_other_cross_site_reads_are_refused_without_running_the_view(client, case_world, headers):
    counsellor, case, url = case_world
    client.force_login(counsellor)
    response = client.get(url, **headers)
    assert response.status_code == 403
    assert case.code not in response.content.decode()
    assert _views(case) == 0


def test_same_site_navigation_is_treated_as_cross_site(client, case_world):
    counsellor, case, url = case_world
    client.force_login(counsellor)
    response = client.get(url, **{**CROSS_SITE_NAVIGATION, "HTTP_SEC_FETCH_SITE": "same-site"})
    assert response.status_code == 403
    assert _views(case) == 0


@pytest.mark.parametrize("site", ["same-origin", "none", None])
def test_own_site_typed_and_header_less_requests_work(client, case_world, site):
    counsellor, case, url = case_world
    client.force_login(counsellor)
    headers = {} if site is None else {"HTTP_SEC_FETCH_SITE": site}
    assert client.get(url, **headers).status_code == 200
    assert _views(case) == 1


@pytest.mark.django_db
def test_a_cross_site_audit_export_exports_and_records_nothing(client):
    client.force_login(make_user(Role.AUDITOR, organisation=make_organisation()))
    response = client.get(reverse("audit:export"), **CROSS_SITE_NAVIGATION)
    assert response.status_code == 403
    assert "text/csv" not in response["Content-Type"]
    assert not Event.objects.filter(action=Action.EXPORT).exists()


@pytest.mark.django_db
def test_api_token_requests_and_public_pages_are_not_affected(client):
    supervisor = make_user(Role.SUPERVISOR, organisation=make_organisation())
    raw = ApiToken.issue(supervisor, name="t", days=1)[1]
    api = client.get(
        "/api/v1/metrics/",
        headers={"Authorization": f"Bearer {raw}"},
        **CROSS_SITE_NAVIGATION,
    )
    assert api.status_code == 200
    assert client.get(LOGIN, **CROSS_SITE_NAVIGATION).status_code == 200
    client.force_login(supervisor)
    assert client.get(reverse("health"), **CROSS_SITE_NAVIGATION).status_code == 200


# ---------------------------------------------------------------------------------------
# Finding 11: Permissions-Policy


def _policy(response) -> dict[str, str]:
    header = response.headers.get("Permissions-Policy", "")
    return dict(item.strip().split("=", 1) for item in header.split(",") if item.strip())


@pytest.mark.django_db
def test_every_response_carries_a_permissions_policy(client):
    counsellor = make_user(Role.COUNSELLOR, organisation=make_organisation())
    responses = {
        "login page": client.get(LOGIN),
        "static file": client.get("/static/css/app.css"),
        "missing page": client.get("/no-such-page/"),
        "api without a token": client.get("/api/v1/metrics/"),
    }
    client.force_login(counsellor)
    responses["dashboard"] = client.get("/")
    for what, response in responses.items():
        policy = _policy(response)
        for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
            assert policy.get(feature) == "()", (what, feature, policy)
        assert "interest-cohort" not in policy, what
