"""Second-person approvals (accounts.approvals): who may decide what, the checks made again
at decision time, expiry, and the rules accounts.models keeps below every caller."""

from __future__ import annotations

import datetime
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import approvals
from accounts.models import ApprovalRequest, User, organisation_group
from accounts.roles import APPROVAL_ROLES, Role
from audit import context
from audit.models import Action, Event
from tests.factories import make_organisation, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def centre(world):
    """The world's centre with a second administrator, a second supervisor and a member
    of staff without a role."""
    return SimpleNamespace(
        world=world,
        org=world.centre,
        admin=world.admin,
        admin2=world.user(Role.SYSTEM_ADMIN, username="admin2"),
        supervisor=world.supervisor,
        supervisor2=world.user(Role.SUPERVISOR, username="supervisor2"),
        staff=world.user(None, username="staff"),
    )


def fresh(user: User) -> User:
    return User.objects.get(pk=user.pk)


def decide(actor, request, approve=True, recent=True):
    return approvals.decide(
        actor=actor, request_id=request.pk, approve=approve, recently_authenticated=recent
    )


def test_who_decides_follows_the_policy(centre):
    case_role = approvals.request_role(
        actor=centre.admin, target=centre.staff, role=Role.OUTREACH_WORKER
    )
    privileged = approvals.request_role(
        actor=centre.admin, target=centre.staff, role=Role.SUPERVISOR
    )
    reset_staff = approvals.request_password_reset(actor=centre.admin, target=centre.staff)
    reset_privileged = approvals.request_password_reset(
        actor=centre.admin, target=centre.supervisor
    )
    outsider = make_user(Role.SUPERVISOR, organisation=make_organisation())
    assert approvals.may_decide(centre.supervisor, case_role)
    assert not approvals.may_decide(outsider, case_role)
    assert not approvals.may_decide(centre.admin2, case_role)
    assert not approvals.may_decide(centre.admin, case_role)  # the requester
    assert approvals.may_decide(centre.admin2, privileged)
    assert not approvals.may_decide(centre.supervisor, privileged)
    assert approvals.may_decide(centre.supervisor, reset_staff)
    # A supervisor's own reset is for a second administrator, never for themselves.
    assert approvals.may_decide(centre.admin2, reset_privileged)
    assert not approvals.may_decide(centre.supervisor2, reset_privileged)
    assert not approvals.may_decide(centre.supervisor, reset_privileged)
    assert [r.pk for r in approvals.decidable(centre.supervisor)] == [case_role.pk, reset_staff.pk]


def test_nobody_asks_for_themselves_and_the_database_refuses_it_too(centre):
    with pytest.raises(approvals.ApprovalRefused):
        approvals.request_password_reset(actor=centre.admin, target=centre.admin)
    with pytest.raises(approvals.ApprovalRefused):
        approvals.change_roles(actor=centre.admin, target=centre.admin, roles=set())
    now = timezone.now()
    with pytest.raises(IntegrityError), transaction.atomic():
        ApprovalRequest.objects.create(
            kind=ApprovalRequest.Kind.PASSWORD_RESET,
            target=centre.admin,
            requested_by=centre.admin,
            approver=ApprovalRequest.Approver.SECOND_ADMIN,
            requested_at=now,
            expires_at=now,
        )


def test_a_supervisor_cannot_ask_only_administrators_do(centre):
    with pytest.raises(PermissionDenied):
        approvals.request_role(actor=centre.supervisor, target=centre.staff, role=Role.COUNSELLOR)


def test_the_requester_cannot_decide_even_when_entitled_otherwise(centre):
    request = approvals.request_role(actor=centre.admin, target=centre.staff, role=Role.AUDITOR)
    with pytest.raises(ApprovalRequest.DoesNotExist):
        decide(centre.admin, request)
    assert not fresh(centre.staff).has_perm("audit.view_event")


def test_an_expired_request_is_neither_listed_nor_approved(centre):
    request = approvals.request_role(actor=centre.admin, target=centre.staff, role=Role.COUNSELLOR)
    ApprovalRequest.objects.filter(pk=request.pk).update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    assert approvals.decidable(centre.supervisor) == []
    with pytest.raises(approvals.ApprovalRefused):
        decide(centre.supervisor, request)
    assert not fresh(centre.staff).has_perm("casework.view_case")


def test_decision_time_checks_a_move_to_another_organisation(centre):
    request = approvals.request_password_reset(actor=centre.admin, target=centre.staff)
    staff = fresh(centre.staff)
    staff.organisation = make_organisation()
    staff.save()
    # The old organisation's supervisor is no longer entitled; the new one sees a request
    # made for another organisation and cannot approve it either.
    with pytest.raises(ApprovalRequest.DoesNotExist):
        decide(centre.supervisor, request)
    new_supervisor = make_user(Role.SUPERVISOR, organisation=staff.organisation)
    with pytest.raises(approvals.ApprovalRefused):
        decide(new_supervisor, request)
    assert fresh(centre.staff).check_password("correct horse battery staple 7")


def test_decision_time_checks_that_the_requester_is_still_an_administrator(centre):
    request = approvals.request_role(actor=centre.admin, target=centre.staff, role=Role.COUNSELLOR)
    centre.admin.groups.remove(Group.objects.get(name=Role.SYSTEM_ADMIN))
    with pytest.raises(approvals.ApprovalRefused):
        decide(centre.supervisor, request)


def test_a_privileged_approval_needs_a_recent_authentication(centre):
    request = approvals.request_role(actor=centre.admin, target=centre.staff, role=Role.AUDITOR)
    with pytest.raises(approvals.StepUpRequired):
        decide(centre.admin2, request, recent=False)
    assert not fresh(centre.staff).has_perm("audit.view_event")
    decide(centre.admin2, request, recent=True)
    assert fresh(centre.staff).has_perm("audit.view_event")


def test_refusing_changes_nothing_and_is_recorded_with_both_names(centre):
    request = approvals.request_role(actor=centre.admin, target=centre.staff, role=Role.COUNSELLOR)
    decide(centre.supervisor, request, approve=False)
    assert not fresh(centre.staff).has_perm("casework.view_case")
    event = Event.objects.get(action=Action.APPROVAL_DECISION)
    assert event.detail["decision"] == "refused"
    assert event.actor_label == centre.supervisor.username
    assert event.detail["requested_by"] == centre.admin.username
    with pytest.raises(approvals.ApprovalRefused):
        decide(centre.supervisor2, request)


def test_a_role_without_case_content_is_given_directly_and_removals_are_immediate(centre):
    assert Role.STATISTICS_VIEWER not in APPROVAL_ROLES
    change = approvals.change_roles(
        actor=centre.admin, target=centre.staff, roles={Role.STATISTICS_VIEWER}
    )
    assert change.added == [Role.STATISTICS_VIEWER]
    assert fresh(centre.staff).has_perm("accounts.view_statistics")
    change = approvals.change_roles(actor=centre.admin, target=centre.supervisor, roles=set())
    assert change.removed == [Role.SUPERVISOR]
    assert not fresh(centre.supervisor).has_perm("casework.view_case")
    changes = Event.objects.filter(action=Action.ADMIN_CHANGE).values_list(
        "detail__operation", "detail__role"
    )
    assert set(changes) == {("role_added", "statistics_viewer"), ("role_removed", "supervisor")}


def test_asking_twice_gives_the_same_pending_request(centre):
    first = approvals.request_factor_reset(actor=centre.admin, target=centre.staff)
    again = approvals.request_factor_reset(actor=centre.admin2, target=centre.staff)
    assert first.pk == again.pk


def test_the_approver_of_a_password_reset_is_no_party_to_a_factor_reset(centre):
    TOTPDevice.objects.create(user=centre.staff, name="authenticator", confirmed=True)
    factor = approvals.request_factor_reset(actor=centre.admin, target=centre.staff)
    decide(centre.supervisor, factor)
    password = approvals.request_password_reset(actor=centre.admin, target=centre.staff)
    with pytest.raises(approvals.ApprovalRefused):
        decide(centre.supervisor, password)  # would hold the password of a bare account
    assert decide(centre.supervisor2, password).temporary_password


def test_after_a_factor_reset_the_user_enrols_again_at_the_next_sign_in(client, centre, settings):
    settings.TWO_FACTOR_ENFORCED = True
    TOTPDevice.objects.create(user=centre.supervisor, name="authenticator", confirmed=True)
    request = approvals.request_factor_reset(actor=centre.admin, target=centre.supervisor)
    decide(centre.admin2, request)
    client.post(
        reverse("accounts:login"),
        {"username": centre.supervisor.username, "password": "correct horse battery staple 7"},
    )
    assert client.get(reverse("home"))["Location"] == reverse("accounts:two_factor_setup")


# --- the rules below every caller (accounts.models), inside a request ---


def _in_request_of(user):
    request = RequestFactory().get("/")
    request.user = user
    return context.activate(context.RequestContext("test", None, request))


def _refused(change) -> None:
    """`change` raises PermissionDenied; like a request, its transaction rolls back (an
    m2m signal runs inside the caller's transaction without a savepoint)."""
    with pytest.raises(PermissionDenied), transaction.atomic():
        change()


def _saved(user, **fields):
    def change():
        for name, value in fields.items():
            setattr(user, name, value)
        user.save()

    return change


def test_inside_a_request_an_approval_role_is_added_only_by_an_approved_request(centre):
    other = make_organisation()
    token = _in_request_of(centre.admin)
    try:
        _refused(lambda: centre.staff.groups.add(Group.objects.get(name=Role.COUNSELLOR)))
        _refused(lambda: Group.objects.get(name=Role.MDT_MEMBER).user_set.add(centre.staff))
        _refused(lambda: centre.admin.groups.remove(Group.objects.get(name=Role.SYSTEM_ADMIN)))
        counsellor_permissions = list(Group.objects.get(name="counsellor").permissions.all())
        _refused(lambda: centre.staff.user_permissions.add(*counsellor_permissions))
        _refused(lambda: Group.objects.get(name=Role.SYSTEM_ADMIN).permissions.clear())
        _refused(_saved(fresh(centre.admin), is_superuser=True))
        _refused(_saved(fresh(centre.admin), organisation=other))
        _refused(_saved(fresh(centre.staff), is_superuser=True))
        _refused(_saved(fresh(centre.supervisor), organisation=other))  # holds a case role
        # What an administrator may do: a role without case content for someone else.
        centre.staff.groups.add(Group.objects.get(name=Role.STATISTICS_VIEWER))
    finally:
        context.deactivate(token)
    assert fresh(centre.staff).roles == [Role.STATISTICS_VIEWER]
    assert fresh(centre.admin).roles == [Role.SYSTEM_ADMIN]
    assert Group.objects.get(name=Role.SYSTEM_ADMIN).permissions.exists()
    # Outside a request (the operator's shell, migrations) the operator may.
    centre.staff.groups.add(Group.objects.get(name=Role.COUNSELLOR))
    assert fresh(centre.staff).has_perm("casework.view_case")


def test_the_organisation_group_is_kept_by_every_route(centre):
    other = make_organisation()
    own = organisation_group(centre.org.pk)
    staff = centre.staff
    staff.groups.set([Group.objects.get(name=Role.STATISTICS_VIEWER)])
    assert own in staff.groups.all()
    staff.groups.remove(own)
    assert own in staff.groups.all()
    own.user_set.clear()
    assert own in fresh(staff).groups.all()
    organisation_group(other.pk).user_set.add(staff)
    assert organisation_group(other.pk) not in fresh(staff).groups.all()
    staff.organisation = other
    staff.save()
    assert set(fresh(staff).groups.filter(name__startswith="org:")) == {
        organisation_group(other.pk)
    }


# --- through the admin ---


def test_a_new_account_made_in_the_admin_has_no_password_anyone_knows(client, centre):
    client.force_login(centre.admin)
    response = client.post(
        reverse("admin:accounts_user_add"),
        {"username": "newbie", "display_name": "新人", "organisation": centre.org.pk},
    )
    assert response.status_code == 302
    newbie = User.objects.get(username="newbie")
    assert not newbie.has_usable_password()
    assert organisation_group(centre.org.pk) in newbie.groups.all()
    event = Event.objects.get(action=Action.ADMIN_CHANGE, object_ref="newbie")
    assert event.detail["operation"] == "add"
    assert "password" not in str(event.detail["fields"])


def test_moving_a_counsellor_to_another_organisation_is_refused_with_the_reason(client, centre):
    counsellor = make_user(Role.COUNSELLOR, organisation=centre.org, username="mover")
    other = make_organisation()
    client.force_login(centre.admin)
    url = reverse("admin:accounts_user_change", args=[counsellor.pk])
    response = client.post(
        url,
        {
            "username": "mover",
            "organisation": other.pk,
            "is_active": "on",
            "roles": [Role.COUNSELLOR.value],
        },
    )
    assert response.status_code == 200
    assert "先に役割を外して保存し" in response.content.decode()
    assert fresh(counsellor).organisation_id == centre.org.pk


def test_the_admin_sees_their_own_roles_but_cannot_edit_them(client, centre):
    client.force_login(centre.admin)
    page = client.get(reverse("admin:accounts_user_change", args=[centre.admin.pk]))
    content = page.content.decode()
    assert 'name="roles"' not in content
    assert 'name="organisation"' not in content
    assert "システム管理者" in content
    other = client.get(reverse("admin:accounts_user_change", args=[centre.staff.pk]))
    assert 'name="roles"' in other.content.decode()
    assert 'name="is_superuser"' not in other.content.decode()
    assert 'name="user_permissions"' not in other.content.decode()


def test_an_account_is_not_reverted_through_its_history(client, centre):
    client.force_login(centre.admin)
    history = User.history.filter(id=centre.staff.pk).first()
    url = reverse("admin:accounts_user_simple_history", args=[centre.staff.pk, history.pk])
    # Neither the page offering the revert nor the revert itself.
    assert client.get(url).status_code == 403
    assert client.post(url, {"username": "renamed"}).status_code == 403
    assert fresh(centre.staff).username == "staff"


def test_a_user_who_must_change_their_password_gets_no_api_answer(client, centre):
    staff = fresh(centre.staff)
    staff.must_change_password = True
    staff.save(update_fields=["must_change_password"])
    client.force_login(staff)
    response = client.get(reverse("api:metric_list"))
    assert response.status_code == 403
    assert "パスワード" in response.json()["detail"]


def test_an_approver_is_told_by_email_and_the_approvals_screen_lists_the_request(client, centre):
    from django.core import mail

    centre.supervisor.email = "sv@example.jp"
    centre.supervisor.save()
    approvals.request_role(actor=centre.admin, target=centre.staff, role=Role.COUNSELLOR)
    assert any("sv@example.jp" in m.to for m in mail.outbox)
    assert all("staff" not in m.subject for m in mail.outbox)
    client.force_login(centre.supervisor)
    page = client.get(reverse("accounts:approvals")).content.decode()
    assert "承認待ちの依頼" in page and "staff" in page and centre.admin.username in page
    bad = client.post(
        reverse("accounts:approval_decide", args=[ApprovalRequest.objects.get().pk]),
        {"decision": "maybe"},
    )
    assert bad.status_code == 400
    assert ApprovalRequest.objects.get().status == ApprovalRequest.Status.PENDING


def test_the_requester_follows_their_requests_on_the_approvals_screen(client, centre):
    request = approvals.request_role(actor=centre.admin, target=centre.staff, role=Role.MDT_MEMBER)
    client.force_login(centre.admin)
    page = client.get(reverse("accounts:approvals")).content.decode()
    assert "あなたが出した依頼" in page and "承認待ち" in page
    assert "/decide/" not in page
    ApprovalRequest.objects.filter(pk=request.pk).update(expires_at=timezone.now())
    assert "期限切れ" in client.get(reverse("accounts:approvals")).content.decode()
    # Reading the screen changes nothing.
    assert ApprovalRequest.objects.get(pk=request.pk).status == ApprovalRequest.Status.PENDING
