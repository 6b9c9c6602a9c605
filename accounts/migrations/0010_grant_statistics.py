"""The report screens need accounts.view_statistics (issue 17, finding 11): supervisors
gain it (statistics viewers already hold it). Administrators keep the plans in the admin
(indicators.*_plan) but read no statistics."""

from django.db import migrations

from accounts.migration_ops import grant_operation

PERMISSIONS = {"supervisor": ["accounts.view_statistics"]}


class Migration(migrations.Migration):
    dependencies = [("accounts", "0009_grant_approvals")]

    operations = [grant_operation(PERMISSIONS)]
