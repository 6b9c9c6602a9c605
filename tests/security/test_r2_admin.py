"""Security round 2, finding 2: the system administrator could reach case content through
the Django admin (issue 17). Each test performs the review's attack as the administrator,
signed in through the login form with a real TOTP code and the production two-factor
policy, and asserts that it is refused or held for a second person's approval.

Also finding 10 (admin actions reach the audit chain) and finding 11 (the administrator
does not get aggregate statistics).
"""

from __future__ import annotations

import re
import time
from html.parser import HTMLParser
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Group, Permission
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Organisation, Region, User, organisation_group
from accounts.roles import Role
from audit.models import Action, Event
from audit.services import verify_chain
from casework.periods import fiscal_year
from indicators.models import Plan
from tests.factories import PASSWORD, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.two_factor]


# --- signing in as a person would: password, then a code from the authenticator app ---


def _code(device: TOTPDevice, drift: int) -> str:
    value = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=drift)
    return f"{value:06d}"


def sign_in(user: User, *, password: str = PASSWORD) -> Client:
    """A browser of `user`'s own, signed in through the login form; holders of the
    two-factor permission then pass a real TOTP code from their authenticator."""
    client = Client()
    response = client.post(
        reverse("accounts:login"), {"username": user.username, "password": password}
    )
    assert response.status_code == 302, response.content.decode()[:500]
    if not fresh(user).has_perm("accounts.requires_two_factor"):
        return client
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
    verified = client.post(reverse("accounts:two_factor_verify"), {"token": _code(device, 0)})
    assert verified.status_code == 302
    return client


def step_up(client, user: User) -> None:
    """Re-authenticate with the password and the next code (accounts:reauthenticate); the
    code of the sign-in cannot be used twice. "Next" is the time step after the one the
    sign-in used (the device's `last_t`), whatever the clock did in between: a sign-in
    verified just after a 30-second boundary leaves the device synchronised one step
    back, and a code two steps ahead of it would be refused."""
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    now = (int(time.time()) - device.t0) // device.step
    response = client.post(
        reverse("accounts:reauthenticate"),
        {"password": PASSWORD, "token": _code(device, device.last_t + 1 - now), "next": "/"},
    )
    assert response.status_code == 302
    assert reverse("accounts:reauthenticate") not in response["Location"]


def age_authentication(client) -> None:
    """Make the session's last authentication older than the step-up window."""
    from accounts import reauth

    session = client.session
    session[reauth.AUTHENTICATED_AT] = 0
    session.save()


# --- reading and posting an admin form as the browser does ---


class _FormFields(HTMLParser):
    """The successful controls of the admin's object form (`<form id="<model>_form">`):
    what a browser sends when the user presses save."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: list[tuple[str, str]] = []
        self._in_form = False
        self._done = False
        self._select: str | None = None
        self._textarea: str | None = None
        self._text = ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if self._done:
            return
        if tag == "form" and (a.get("id") or "").endswith("_form"):
            self._in_form = True
        if not self._in_form:
            return
        name = a.get("name")
        if tag == "input" and name and "disabled" not in a:
            kind = a.get("type", "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.fields.append((name, a.get("value", "on")))
            elif kind not in ("submit", "button", "file", "image", "reset"):
                self.fields.append((name, a.get("value", "")))
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and "selected" in a:
            self.fields.append((self._select, a.get("value", "")))
        elif tag == "textarea" and name:
            self._textarea, self._text = name, ""

    def handle_data(self, data):
        if self._textarea:
            self._text += data

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea:
            self.fields.append((self._textarea, self._text.lstrip("\n")))
            self._textarea = None
        elif tag == "form" and self._in_form:
            self._in_form, self._done = False, True


def admin_form(client, url: str) -> dict[str, list[str]]:
    page = client.get(url)
    assert page.status_code == 200, page.status_code
    parser = _FormFields()
    parser.feed(page.content.decode())
    data: dict[str, list[str]] = {}
    for name, value in parser.fields:
        data.setdefault(name, []).append(value)
    return data


def post_admin_form(client, url: str, **changes):
    data = admin_form(client, url)
    for name, value in changes.items():
        data[name] = value if isinstance(value, list) else [value]
    data["_save"] = ["保存"]
    return client.post(url, data)


def change_url(obj) -> str:
    meta = obj._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])


def role_group(role: Role) -> Group:
    return Group.objects.get(name=role.value)


def permission(name: str) -> Permission:
    app, codename = name.split(".")
    return Permission.objects.get(content_type__app_label=app, codename=codename)


def fresh(user: User) -> User:
    """The user as the next request sees them (no cached permissions)."""
    return User.objects.get(pk=user.pk)


def decision_url(page: str) -> str:
    """The decision form of the (only) pending request on the approvals screen."""
    found = re.findall(r'action="(/accounts/approvals/\d+/decide/)"', page)
    assert len(found) == 1, page
    return found[0]


@pytest.fixture
def centre(world):
    """The world's centre with a second administrator and a newcomer without a role; the
    administrator and the counsellor have addresses."""
    for user, email in ((world.admin, "k@example.jp"), (world.counsellor, "c@x.jp")):
        user.email = email
        user.save(update_fields=["email"])
    return SimpleNamespace(
        org=world.centre,
        other=world.other,
        admin=world.admin,
        second_admin=world.user(Role.SYSTEM_ADMIN, username="admin2"),
        supervisor=world.supervisor,
        other_supervisor=world.other_supervisor,
        newcomer=world.user(None, username="newcomer", email="s@example.jp"),
        counsellor=world.counsellor,
    )


# --- granting oneself anything ---


def test_the_admin_cannot_give_themselves_a_role_superuser_status_or_permissions(centre):
    admin = centre.admin
    browser = sign_in(admin)
    post_admin_form(
        browser,
        change_url(admin),
        groups=[str(role_group(Role.COUNSELLOR).pk), str(role_group(Role.SYSTEM_ADMIN).pk)],
        roles=[Role.COUNSELLOR.value, Role.SYSTEM_ADMIN.value],
        is_superuser="on",
        user_permissions=[str(permission("casework.view_case").pk)],
        organisation=str(centre.other.pk),
    )
    admin = fresh(admin)
    assert not admin.is_superuser
    assert not admin.user_permissions.exists()
    assert {r.value for r in admin.roles} == {Role.SYSTEM_ADMIN.value}
    assert admin.organisation_id == centre.org.pk
    assert not admin.has_perm("casework.view_case")
    # Nor waiting for someone's approval: a request for oneself is not even made.
    assert not Event.objects.filter(action=Action.APPROVAL_REQUEST).exists()
    assert browser.get(reverse("casework:case_list")).status_code == 403


def test_the_admin_cannot_give_a_role_group_or_a_new_group_raw_permissions(centre):
    browser = sign_in(centre.admin)
    group = role_group(Role.SYSTEM_ADMIN)
    before = set(group.permissions.values_list("pk", flat=True))
    browser.post(
        reverse("admin:auth_group_change", args=[group.pk]),
        {"name": group.name, "permissions": [*before, permission("casework.view_case").pk]},
    )
    assert set(group.permissions.values_list("pk", flat=True)) == before
    created = browser.post(
        reverse("admin:auth_group_add"),
        {"name": "backdoor", "permissions": [permission("casework.view_case").pk]},
    )
    assert created.status_code == 403
    assert not Group.objects.filter(name="backdoor").exists()


# --- another user's password and second factor ---


def test_the_admin_cannot_set_another_users_password(centre):
    target = centre.counsellor
    browser = sign_in(centre.admin)
    # The stock UserAdmin's password form, next to the change form.
    url = change_url(target).replace("/change/", "/password/")
    response = browser.post(
        url, {"password1": "new secret phrase 42", "password2": "new secret phrase 42"}
    )
    assert response.status_code == 403
    assert fresh(target).check_password(PASSWORD)
    assert not fresh(target).check_password("new secret phrase 42")


def test_a_password_reset_needs_a_supervisor_and_makes_the_user_choose_a_new_password(centre):
    target = centre.counsellor
    admin = sign_in(centre.admin)
    changelist = reverse("admin:accounts_user_changelist")
    admin.post(changelist, {"action": "request_password_reset", "_selected_action": [target.pk]})
    assert fresh(target).check_password(PASSWORD)  # nothing changes before the approval
    requested = Event.objects.get(action=Action.APPROVAL_REQUEST, object_ref=target.username)
    assert requested.actor_label == centre.admin.username
    assert requested.detail["kind"] == "password_reset"
    # The requester cannot approve their own request: the screen offers no decision.
    assert "/decide/" not in admin.get(reverse("accounts:approvals")).content.decode()

    supervisor = sign_in(centre.supervisor)
    page = supervisor.get(reverse("accounts:approvals")).content.decode()
    assert target.username in page
    shown = supervisor.post(decision_url(page), {"decision": "approve"})
    assert shown.status_code == 200
    found = re.search(r'data-testid="temporary-password">([^<]+)<', shown.content.decode())
    assert found is not None
    temporary = found.group(1).strip()
    assert fresh(target).check_password(temporary)
    assert fresh(target).must_change_password
    # The temporary password is nowhere in the chain.
    assert not any(temporary in str(e.detail) for e in Event.objects.all())
    reset = Event.objects.get(action=Action.PASSWORD_RESET, object_ref=target.username)
    assert reset.actor_label == centre.supervisor.username
    assert reset.detail["requested_by"] == centre.admin.username
    assert reset.detail["approved_by"] == centre.supervisor.username
    assert any(target.email in m.to for m in mail.outbox)

    # The user signs in with it and reaches nothing but the password change page.
    user = sign_in(target, password=temporary)
    for name in ("home", "casework:case_list"):
        assert user.get(reverse(name))["Location"].startswith(reverse("accounts:password_change"))
    changed = user.post(
        reverse("accounts:password_change"),
        {
            "old_password": temporary,
            "new_password1": "a new phrase only I know 9",
            "new_password2": "a new phrase only I know 9",
        },
    )
    assert changed.status_code == 302
    assert not fresh(target).must_change_password
    assert user.get(reverse("casework:case_list")).status_code == 200


def test_a_factor_reset_for_a_supervisor_needs_a_second_admin_with_a_fresh_step_up(centre):
    target = centre.other_supervisor
    TOTPDevice.objects.create(user=target, name="authenticator", confirmed=True)
    StaticDevice.objects.create(user=target, name="recovery", confirmed=True)
    admin = sign_in(centre.admin)
    changelist = reverse("admin:accounts_user_changelist")
    admin.post(changelist, {"action": "request_factor_reset", "_selected_action": [target.pk]})
    assert TOTPDevice.objects.filter(user=target).exists()
    assert Event.objects.filter(action=Action.APPROVAL_REQUEST, object_ref=target.username)

    # A supervisor may not approve a change to a privileged account.
    supervisor = sign_in(centre.supervisor)
    assert "/decide/" not in supervisor.get(reverse("accounts:approvals")).content.decode()

    second = sign_in(centre.second_admin)
    url = decision_url(second.get(reverse("accounts:approvals")).content.decode())
    age_authentication(second)
    stale = second.post(url, {"decision": "approve"})
    assert stale.status_code == 302
    assert stale["Location"].startswith(reverse("accounts:reauthenticate"))
    assert TOTPDevice.objects.filter(user=target).exists()
    step_up(second, centre.second_admin)
    assert second.post(url, {"decision": "approve"}).status_code == 302
    assert not TOTPDevice.objects.filter(user=target).exists()
    assert not StaticDevice.objects.filter(user=target).exists()
    event = Event.objects.get(action=Action.FACTOR_RESET, object_ref=target.username)
    assert event.actor_label == centre.second_admin.username
    assert event.detail["requested_by"] == centre.admin.username
    assert event.detail["approved_by"] == centre.second_admin.username


# --- roles for other users need a second person ---


def test_a_case_role_for_another_user_works_only_after_their_supervisor_approves(centre):
    newcomer = centre.newcomer
    admin = sign_in(centre.admin)
    post_admin_form(
        admin,
        change_url(newcomer),
        groups=[str(role_group(Role.COUNSELLOR).pk)],
        roles=[Role.COUNSELLOR.value],
    )
    assert not fresh(newcomer).has_perm("casework.view_case")
    requested = Event.objects.get(action=Action.APPROVAL_REQUEST, object_ref=newcomer.username)
    assert requested.actor_label == centre.admin.username
    assert requested.detail["role"] == Role.COUNSELLOR.value

    # A supervisor of another organisation sees nothing to decide and cannot decide it.
    outsider = sign_in(centre.other_supervisor)
    assert newcomer.username not in outsider.get(reverse("accounts:approvals")).content.decode()
    supervisor = sign_in(centre.supervisor)
    url = decision_url(supervisor.get(reverse("accounts:approvals")).content.decode())
    assert outsider.post(url, {"decision": "approve"}).status_code == 404
    assert supervisor.get(url).status_code == 405  # decisions are POST only
    assert not fresh(newcomer).has_perm("casework.view_case")

    assert supervisor.post(url, {"decision": "approve"}).status_code == 302
    newcomer = fresh(newcomer)
    assert newcomer.has_perm("casework.view_case")
    assert organisation_group(centre.org.pk) in newcomer.groups.all()
    decided = Event.objects.get(action=Action.APPROVAL_DECISION, object_ref=newcomer.username)
    assert decided.actor_label == centre.supervisor.username
    assert decided.detail["decision"] == "approved"
    assert decided.detail["requested_by"] == centre.admin.username
    effect = Event.objects.get(action=Action.ADMIN_CHANGE, detail__role=Role.COUNSELLOR.value)
    assert effect.detail["requested_by"] == centre.admin.username
    assert effect.detail["approved_by"] == centre.supervisor.username
    assert verify_chain().ok
    # The request is spent: deciding it again changes nothing.
    supervisor.post(url, {"decision": "refuse"})
    assert Event.objects.filter(action=Action.APPROVAL_DECISION).count() == 1


def test_a_privileged_role_is_approved_by_a_second_admin_not_by_a_supervisor(centre):
    newcomer = centre.newcomer
    admin = sign_in(centre.admin)
    post_admin_form(
        admin,
        change_url(newcomer),
        groups=[str(role_group(Role.AUDITOR).pk)],
        roles=[Role.AUDITOR.value],
    )
    assert not fresh(newcomer).has_perm("audit.view_event")
    supervisor = sign_in(centre.supervisor)
    assert "/decide/" not in supervisor.get(reverse("accounts:approvals")).content.decode()
    second = sign_in(centre.second_admin)
    url = decision_url(second.get(reverse("accounts:approvals")).content.decode())
    assert second.post(url, {"decision": "approve"}).status_code == 302
    assert fresh(newcomer).has_perm("audit.view_event")


# --- the organisation group survives every admin save ---


def test_an_admin_save_keeps_the_user_in_exactly_their_organisations_group(centre):
    target = centre.counsellor
    own, foreign = organisation_group(centre.org.pk), organisation_group(centre.other.pk)
    admin = sign_in(centre.admin)
    response = post_admin_form(
        admin,
        change_url(target),
        groups=[str(role_group(Role.COUNSELLOR).pk), str(foreign.pk)],
        display_name="相談 太郎",
    )
    assert response.status_code == 302
    groups = set(fresh(target).groups.all())
    assert own in groups
    assert foreign not in groups
    assert role_group(Role.COUNSELLOR) in groups
    # The routes below the admin keep it too.
    target.groups.clear()
    assert own in set(fresh(target).groups.all())
    foreign.user_set.add(target)
    assert foreign not in set(fresh(target).groups.all())


# --- every admin change is in the chain, with names of fields, never values ---


def test_every_admin_change_is_an_audit_event_with_field_names_only(centre):
    region = Region.objects.create(name="北圏域")
    this_year = fiscal_year(timezone.localdate())
    plan = Plan.objects.create(
        name="推進計画", organisation=centre.org, first_year=this_year, last_year=this_year + 2
    )
    admin = sign_in(centre.admin)
    post_admin_form(admin, change_url(centre.other), name="改名した組織")
    post_admin_form(admin, change_url(region), name="南圏域")
    post_admin_form(admin, change_url(plan), name="第2期推進計画")
    post_admin_form(admin, change_url(centre.counsellor), email="secret-address@example.jp")
    assert Organisation.objects.get(pk=centre.other.pk).name == "改名した組織"

    events = {e.detail.get("model"): e for e in Event.objects.filter(action=Action.ADMIN_CHANGE)}
    assert events["accounts.Organisation"].detail["fields"] == ["name"]
    assert events["accounts.Region"].detail["fields"] == ["name"]
    assert events["indicators.Plan"].detail["fields"] == ["name"]
    assert events["accounts.User"].detail["fields"] == ["email"]
    assert events["accounts.User"].object_ref == centre.counsellor.username
    for event in events.values():
        assert event.actor_label == centre.admin.username
    everything = str([(e.detail, e.object_ref) for e in Event.objects.all()])
    for value in ("改名した組織", "南圏域", "第2期推進計画", "secret-address"):
        assert value not in everything

    # The auditor finds them in the audit browser; the supervisor in the access review.
    auditor = sign_in(make_user(Role.AUDITOR, organisation=centre.org, username="kansa"))
    found = auditor.get(reverse("audit:browser"), {"action": Action.ADMIN_CHANGE.value})
    assert "accounts.Region" in found.content.decode()
    supervisor = sign_in(centre.supervisor)
    today = timezone.localdate().isoformat()
    review = supervisor.get(reverse("casework:access_review"), {"start": today, "end": today})
    page = review.content.decode()
    assert 'data-testid="admin-changes"' in page
    section = page.split('data-testid="admin-changes"', 1)[-1]
    assert centre.counsellor.username in section


def test_an_inline_change_in_the_admin_is_recorded_too(centre):
    this_year = fiscal_year(timezone.localdate())
    plan = Plan.objects.create(
        name="推進計画", organisation=centre.org, first_year=this_year, last_year=this_year + 2
    )
    admin = sign_in(centre.admin)
    data = admin_form(admin, change_url(plan))
    total = next(k for k in data if k.endswith("-TOTAL_FORMS"))
    prefix = total.removesuffix("-TOTAL_FORMS")
    data[total] = ["1"]
    data[f"{prefix}-0-number"] = ["1"]
    data[f"{prefix}-0-name"] = ["居場所の充実"]
    data["_save"] = ["保存"]
    assert admin.post(change_url(plan), data).status_code == 302
    event = Event.objects.get(action=Action.ADMIN_CHANGE, detail__model="indicators.Direction")
    assert event.detail["operation"] == "add"
    assert event.detail["parent"] == str(plan.pk)
    assert "居場所の充実" not in str(event.detail)


def test_every_model_admin_records_its_changes_and_none_shows_case_content_or_factors():
    from django.contrib import admin as django_admin

    from accounts.admin_audit import AuditedAdminMixin

    registry = django_admin.site._registry
    unaudited = [m._meta.label for m, a in registry.items() if not isinstance(a, AuditedAdminMixin)]
    assert unaudited == []
    labels = {model._meta.app_label for model in registry}
    assert not labels & {"casework", "meetings", "referrals", "otp_totp", "otp_static"}


# --- no aggregate statistics for the administrator ---


def test_the_admin_gets_no_statistics_but_still_keeps_plans(centre):
    this_year = fiscal_year(timezone.localdate())
    plan = Plan.objects.create(
        name="推進計画", organisation=centre.org, first_year=this_year, last_year=this_year + 2
    )
    admin = sign_in(centre.admin)
    for url in (
        reverse("indicators:plans"),
        reverse("indicators:progress", args=[plan.pk]),
        reverse("indicators:metric", args=["contacts"]),
        reverse("api:metric_list"),
        reverse("api:plan_list"),
    ):
        assert admin.get(url).status_code == 403, url
    assert admin.get(reverse("admin:indicators_plan_changelist")).status_code == 200
    assert admin.get(change_url(plan)).status_code == 200
    supervisor = sign_in(centre.supervisor)
    assert supervisor.get(reverse("indicators:progress", args=[plan.pk])).status_code == 200
