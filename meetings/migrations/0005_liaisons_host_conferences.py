"""Municipal liaisons host their municipality's case conferences (issue 19, point 6):
they plan meetings, keep attendees and agenda, and write the minutes of the items they
reach (a referred case in their organisation's referral scope). No action items: an
action's assignee must read the case's minutes, which no liaison does."""

from django.db import migrations

from accounts.migration_ops import grant_operation

PERMISSIONS = {
    "municipal_liaison": [
        "meetings.view_meeting",
        "meetings.add_meeting",
        "meetings.change_meeting",
        "meetings.change_agendaitem",
    ]
}


class Migration(migrations.Migration):
    dependencies = [("meetings", "0004_municipal_conferences"), ("accounts", "0002_roles")]

    operations = [grant_operation(PERMISSIONS)]
