"""Outreach permissions for the roles that keep cases."""

from django.db import migrations

from accounts.migration_ops import grant_operation

OUTREACH = [
    "outreach.view_visit",
    "outreach.add_visit",
    "outreach.change_visit",
    "outreach.view_programme",
    "outreach.add_session",
    "outreach.add_attendance",
]
PERMISSIONS = {
    "counsellor": OUTREACH,
    "outreach_worker": OUTREACH,
    "supervisor": OUTREACH,
    "system_admin": ["outreach.view_programme", "outreach.add_programme", "outreach.change_programme"],
}


class Migration(migrations.Migration):
    dependencies = [("outreach", "0001_initial"), ("accounts", "0002_roles")]

    operations = [grant_operation(PERMISSIONS)]
