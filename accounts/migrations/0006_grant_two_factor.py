"""Supervisors, auditors and administrators must use a second factor."""

from django.db import migrations

from accounts.migration_ops import grant_operation

PERMISSIONS = {
    "supervisor": ["accounts.requires_two_factor"],
    "auditor": ["accounts.requires_two_factor"],
    "system_admin": ["accounts.requires_two_factor"],
}


class Migration(migrations.Migration):
    dependencies = [("accounts", "0005_two_factor_permission")]

    operations = [grant_operation(PERMISSIONS)]
