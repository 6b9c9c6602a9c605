"""Break-glass: staff who keep cases may open one outside their access on a stated reason."""

from django.db import migrations

from accounts.migration_ops import grant_operation

PERMISSIONS = {
    "counsellor": ["casework.break_glass"],
    "outreach_worker": ["casework.break_glass"],
    "supervisor": ["casework.break_glass"],
}


class Migration(migrations.Migration):
    dependencies = [("casework", "0006_break_glass")]

    operations = [grant_operation(PERMISSIONS)]
