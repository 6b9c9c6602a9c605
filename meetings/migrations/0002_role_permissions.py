"""Meeting permissions: case-keeping staff prepare meetings; MDT members record advice."""

from django.db import migrations

from accounts.migration_ops import grant, revoke

MEETINGS = [
    "meetings.view_meeting",
    "meetings.add_meeting",
    "meetings.change_meeting",
    "meetings.change_agendaitem",
    "meetings.add_actionitem",
]
PERMISSIONS = {
    "counsellor": MEETINGS,
    "outreach_worker": MEETINGS,
    "supervisor": MEETINGS,
    "mdt_member": ["meetings.view_meeting", "meetings.change_agendaitem"],
}


def forwards(apps, schema_editor):
    grant(apps, PERMISSIONS)


def backwards(apps, schema_editor):
    revoke(apps, PERMISSIONS)


class Migration(migrations.Migration):
    dependencies = [("meetings", "0001_initial"), ("accounts", "0002_roles")]

    operations = [migrations.RunPython(forwards, backwards)]
