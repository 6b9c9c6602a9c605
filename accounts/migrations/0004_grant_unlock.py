"""Supervisors and administrators may lift login lockouts."""

from django.db import migrations

from accounts.migration_ops import grant_operation

PERMISSIONS = {"supervisor": ["accounts.unlock_user"], "system_admin": ["accounts.unlock_user"]}


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_unlock_permission")]

    operations = [grant_operation(PERMISSIONS)]
