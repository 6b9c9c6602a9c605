"""Roles: each is a Django group with a fixed permission set, created by migrations.

Views and services never test role names; they test permissions (`user.has_perm`), and a
role is only the bundle of permissions its group holds. The bundles are written in the
data migrations of each app (frozen history); `ROLE_PERMISSIONS` below is the current
truth, and tests/accounts/test_roles.py proves the migrated groups match it.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    COUNSELLOR = "counsellor", _("相談員")
    OUTREACH_WORKER = "outreach_worker", _("アウトリーチ支援員")
    MDT_MEMBER = "mdt_member", _("多職種連携チーム員")
    SUPERVISOR = "supervisor", _("スーパーバイザー・センター長")
    MUNICIPAL_LIAISON = "municipal_liaison", _("市町村担当者")
    STATISTICS_VIEWER = "statistics_viewer", _("統計閲覧者")
    AUDITOR = "auditor", _("監査担当者")
    SYSTEM_ADMIN = "system_admin", _("システム管理者")


_CASEWORK = [
    "casework.view_case",
    "casework.add_case",
    "casework.change_case",
    "casework.view_client",
    "casework.add_client",
    "casework.change_client",
    "casework.reveal_identity",
    "casework.view_org_cases",
    "casework.view_contact",
    "casework.add_contact",
    "casework.change_contact",
    "casework.view_milestone",
    "casework.add_milestone",
    "casework.break_glass",
    "casework.export_records",
]

# Permissions that open case content. Roles outside casework must never hold one of these;
# tests/accounts/test_roles.py checks it.
CASE_CONTENT_PERMISSIONS = frozenset(
    [*_CASEWORK, "casework.supervise_case", "casework.export_identity"]
)

_OUTREACH = [
    "outreach.view_visit",
    "outreach.add_visit",
    "outreach.change_visit",
    "outreach.view_programme",
    "outreach.add_session",
    "outreach.add_attendance",
]
_MEETINGS = [
    "meetings.view_meeting",
    "meetings.add_meeting",
    "meetings.change_meeting",
    "meetings.change_agendaitem",
    "meetings.add_actionitem",
]
# Supervisors run their organisation's reports unsuppressed, submit them, and enter
# targets, figures from outside the system and assessments.
_INDICATORS = [
    "indicators.view_plan",
    "indicators.view_exact_figures",
    "indicators.submit_report",
    "indicators.add_target",
    "indicators.change_target",
    "indicators.add_manualvalue",
    "indicators.change_manualvalue",
    "indicators.add_assessment",
    "indicators.change_assessment",
]
_REFERRALS = ["referrals.view_referral", "referrals.add_referral", "referrals.change_referral"]
# Roles with API endpoints of their own may make tokens (api.models.ApiToken).
_API = ["api.add_apitoken"]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.COUNSELLOR: [*_CASEWORK, *_REFERRALS, *_OUTREACH, *_MEETINGS, *_API],
    Role.OUTREACH_WORKER: [*_CASEWORK, *_REFERRALS, *_OUTREACH, *_MEETINGS, *_API],
    # MDT members read cases only through object grants while a case is on their agenda.
    Role.MDT_MEMBER: [
        "casework.view_case",
        "casework.view_contact",
        "casework.view_milestone",
        "meetings.view_meeting",
        "meetings.change_agendaitem",
    ],
    Role.SUPERVISOR: [
        *_CASEWORK,
        *_REFERRALS,
        *_OUTREACH,
        *_MEETINGS,
        "casework.supervise_case",
        "casework.export_identity",
        "audit.review_access",
        "accounts.unlock_user",
        "accounts.requires_two_factor",
        "accounts.approve_staff_change",
        "accounts.view_statistics",
        *_INDICATORS,
        "imports.run_import",
        *_API,
    ],
    # Liaisons see referred cases through object grants limited to the consented scope, and
    # host their municipality's case conferences: a referred case in that scope goes on the
    # agenda (meetings.selectors.by_referral) or residents not in the system as a count.
    # No action items: an assignee must read the case's minutes, which a liaison does not.
    Role.MUNICIPAL_LIAISON: [
        "referrals.view_referral",
        "referrals.change_referral",
        "meetings.view_meeting",
        "meetings.add_meeting",
        "meetings.change_meeting",
        "meetings.change_agendaitem",
        *_API,
    ],
    Role.STATISTICS_VIEWER: ["accounts.view_statistics", "indicators.view_plan", *_API],
    Role.AUDITOR: ["audit.view_event", "audit.verify_chain", "accounts.requires_two_factor"],
    # Administrators keep accounts and master data, plans included (in the admin), but
    # read no statistics: the report screens need accounts.view_statistics.
    Role.SYSTEM_ADMIN: [
        "accounts.requires_two_factor",
        "accounts.approve_privileged_change",
        "accounts.unlock_user",
        "accounts.view_user",
        "accounts.add_user",
        "accounts.change_user",
        "accounts.view_organisation",
        "accounts.add_organisation",
        "accounts.change_organisation",
        "accounts.view_region",
        "accounts.add_region",
        "accounts.change_region",
        "auth.view_group",
        "outreach.view_programme",
        "outreach.add_programme",
        "outreach.change_programme",
        *[
            f"indicators.{action}_{model}"
            for model in ("plan", "direction", "indicator", "target")
            for action in ("view", "add", "change")
        ],
    ],
}

# Who must approve a change (accounts.approvals). A role that sees case content holds a
# content permission or receives object grants (referrals, agenda items, transfers);
# a privileged role can approve, review access, read the audit trail or keep accounts.
GRANT_RECEIVING_ROLES = frozenset(
    [
        Role.COUNSELLOR,
        Role.OUTREACH_WORKER,
        Role.MDT_MEMBER,
        Role.SUPERVISOR,
        Role.MUNICIPAL_LIAISON,
    ]
)
PRIVILEGED_ROLES = frozenset([Role.SUPERVISOR, Role.AUDITOR, Role.SYSTEM_ADMIN])


def sees_case_content(role: str) -> bool:
    return role in GRANT_RECEIVING_ROLES or bool(
        set(ROLE_PERMISSIONS[role]) & CASE_CONTENT_PERMISSIONS
    )


# Roles that take effect only when a second person approves; the others (statistics
# viewer) an administrator gives directly, audited.
APPROVAL_ROLES = frozenset(
    role for role in Role if role in PRIVILEGED_ROLES or sees_case_content(role)
)
