"""Supervisors import contacts and cases from their organisation's old spreadsheets."""

from django.db import migrations

from accounts.migration_ops import grant_operation

PERMISSIONS = {"supervisor": ["imports.run_import"]}


class Migration(migrations.Migration):
    dependencies = [("imports", "0001_initial"), ("accounts", "0002_roles")]

    operations = [grant_operation(PERMISSIONS)]
