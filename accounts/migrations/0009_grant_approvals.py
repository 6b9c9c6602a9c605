"""Second-person approvals (issue 17, finding 2): supervisors approve changes to their own
organisation's staff; administrators approve each other's privileged changes."""

from django.db import migrations

from accounts.migration_ops import grant_operation

PERMISSIONS = {
    "supervisor": ["accounts.approve_staff_change"],
    "system_admin": ["accounts.approve_privileged_change"],
}


class Migration(migrations.Migration):
    dependencies = [("accounts", "0008_approvals_and_password_change")]

    operations = [grant_operation(PERMISSIONS)]
