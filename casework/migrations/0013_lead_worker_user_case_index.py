from django.db import migrations

# Which cases a user leads, from the index alone: visibility asks it of every case a
# counsellor's list reads (`visible_cases`), and the worker filter lists them. Django makes
# the lead-worker table itself (an automatic many-to-many table) and gives its models no
# Meta.indexes, so the index is written here; (user, case) replaces Django's index on user.
INDEX = "casework_case_lead_workers_user_case"
DJANGO_USER_INDEX = "casework_case_lead_workers_user_id_9c55cc6e"


class Migration(migrations.Migration):
    dependencies = [("casework", "0012_case_list_indexes")]

    operations = [
        migrations.RunSQL(
            sql=[
                f"CREATE INDEX {INDEX} ON casework_case_lead_workers (user_id, case_id)",
                f"DROP INDEX {DJANGO_USER_INDEX}",
            ],
            reverse_sql=[
                f"CREATE INDEX {DJANGO_USER_INDEX} ON casework_case_lead_workers (user_id)",
                f"DROP INDEX {INDEX}",
            ],
        ),
    ]
