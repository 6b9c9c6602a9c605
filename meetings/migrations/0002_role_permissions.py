"""Meeting permissions: case-keeping staff prepare meetings; MDT members record advice."""

from django.db import migrations

from accounts.migration_ops import grant_operation

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


class Migration(migrations.Migration):
    dependencies = [("meetings", "0001_initial"), ("accounts", "0002_roles")]

    operations = [grant_operation(PERMISSIONS)]
