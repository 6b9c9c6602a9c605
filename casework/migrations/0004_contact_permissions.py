"""Contact and milestone permissions; the own-organisation baseline as its own permission.

`casework.view_case` now only opens case pages at all (which cases: the object rule);
`casework.view_org_cases` gives the baseline of seeing the own organisation's cases. MDT
members hold the first without the second: they see cases only through object grants.
"""

from django.db import migrations

from accounts.migration_ops import grant_operation

CONTACTS = [
    "casework.view_org_cases",
    "casework.view_contact",
    "casework.add_contact",
    "casework.change_contact",
    "casework.view_milestone",
    "casework.add_milestone",
]
PERMISSIONS = {
    "counsellor": CONTACTS,
    "outreach_worker": CONTACTS,
    "supervisor": CONTACTS,
    "mdt_member": ["casework.view_case", "casework.view_contact", "casework.view_milestone"],
}


class Migration(migrations.Migration):
    dependencies = [("casework", "0003_contacts_and_milestones")]

    operations = [grant_operation(PERMISSIONS)]
