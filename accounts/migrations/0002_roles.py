"""The eight roles as groups, with the permissions of accounts' own models."""

from django.db import migrations

from accounts.migration_ops import grant, revoke

ROLES = [
    "counsellor",
    "outreach_worker",
    "mdt_member",
    "supervisor",
    "municipal_liaison",
    "statistics_viewer",
    "auditor",
    "system_admin",
]

PERMISSIONS = {
    "statistics_viewer": ["accounts.view_statistics"],
    "system_admin": [
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
    ],
}


def create_roles(apps, schema_editor):
    group = apps.get_model("auth", "Group")
    for role in ROLES:
        group.objects.get_or_create(name=role)
    grant(apps, PERMISSIONS)


def remove_roles(apps, schema_editor):
    revoke(apps, PERMISSIONS)
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
