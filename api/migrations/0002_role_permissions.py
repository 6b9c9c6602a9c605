"""Roles that have API endpoints of their own may make API tokens (tokens act as the user)."""

from django.db import migrations

from accounts.migration_ops import grant_operation

PERMISSIONS = {
    role: ["api.add_apitoken"]
    for role in (
        "counsellor",
        "outreach_worker",
        "supervisor",
        "municipal_liaison",
        "statistics_viewer",
    )
}


class Migration(migrations.Migration):
    dependencies = [("api", "0001_api_tokens"), ("accounts", "0006_grant_two_factor")]

    operations = [grant_operation(PERMISSIONS)]
