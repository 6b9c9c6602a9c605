"""Transfers made before the access kinds were explicit gave the old organisation's group
an open-ended case grant. Each running one becomes a time-limited transfer read-back
(casework.CaseReadBack) and the group grant goes."""

import datetime

from django.conf import settings
from django.db import migrations


def grants_to_read_backs(apps, schema_editor):
    Transfer = apps.get_model("referrals", "Transfer")
    CaseReadBack = apps.get_model("casework", "CaseReadBack")
    CaseGroupObjectPermission = apps.get_model("casework", "CaseGroupObjectPermission")
    days = getattr(settings, "TRANSFER_READ_BACK_DAYS", 90)
    for transfer in Transfer.objects.filter(access_ended_at__isnull=True):
        CaseReadBack.objects.create(
            case_id=transfer.case_id,
            organisation_id=transfer.from_organisation_id,
            granted_at=transfer.at,
            expires_at=transfer.at + datetime.timedelta(days=days),
        )
    # The only group grants on cases were these (referrals grant on the referral itself).
    CaseGroupObjectPermission.objects.filter(permission__codename="view_case").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("referrals", "0003_fewer_write_indexes"),
        ("casework", "0014_explicit_access_kinds"),
    ]

    operations = [migrations.RunPython(grants_to_read_backs, migrations.RunPython.noop)]
