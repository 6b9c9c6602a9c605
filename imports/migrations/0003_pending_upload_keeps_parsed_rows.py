"""A waiting upload keeps the rows read from the file (read once, at the upload), no longer
the file's bytes. Uploads waiting now (at most a day old) hold only bytes: they are
discarded with their data keys, as a cancel would; their owners upload the file again."""

from django.db import migrations

import casework.fields


def discard_waiting_uploads(apps, schema_editor):
    PendingUpload = apps.get_model("imports", "PendingUpload")
    DataKey = apps.get_model("casework", "DataKey")
    keys = list(PendingUpload.objects.values_list("data_key_id", flat=True))
    PendingUpload.objects.all().delete()
    DataKey.objects.filter(pk__in=keys).delete()  # the wrapped key goes with its row


class Migration(migrations.Migration):
    dependencies = [
        ("imports", "0002_role_permissions"),
        ("casework", "0001_initial"),
    ]

    # The rows are deleted last: on PostgreSQL a table with pending (deferred) constraint
    # checks cannot be altered in the same transaction.
    operations = [
        migrations.RemoveField(model_name="pendingupload", name="content"),
        migrations.AddField(
            model_name="pendingupload",
            name="parsed",
            field=casework.fields.EncryptedTextField(
                blank=True, null=True, verbose_name="読み取った内容"
            ),
        ),
        migrations.RunPython(discard_waiting_uploads, migrations.RunPython.noop),
    ]
