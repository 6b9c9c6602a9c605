"""Casework permissions for the roles that keep cases."""

from django.db import migrations

from accounts.migration_ops import grant_operation

CASEWORK = [
    "casework.view_case",
    "casework.add_case",
    "casework.change_case",
    "casework.view_client",
    "casework.add_client",
    "casework.change_client",
    "casework.reveal_identity",
]
PERMISSIONS = {
    "counsellor": CASEWORK,
    "outreach_worker": CASEWORK,
    "supervisor": [*CASEWORK, "casework.supervise_case"],
}


class Migration(migrations.Migration):
    dependencies = [("casework", "0001_initial"), ("accounts", "0002_roles")]

    operations = [grant_operation(PERMISSIONS)]
