"""Referral permissions: staff who keep cases refer; municipal liaisons receive."""

from django.db import migrations

from accounts.migration_ops import grant_operation

REFERRALS = ["referrals.view_referral", "referrals.add_referral", "referrals.change_referral"]
PERMISSIONS = {
    "counsellor": REFERRALS,
    "outreach_worker": REFERRALS,
    "supervisor": REFERRALS,
    "municipal_liaison": ["referrals.view_referral", "referrals.change_referral"],
}


class Migration(migrations.Migration):
    dependencies = [("referrals", "0001_initial"), ("casework", "0004_contact_permissions")]

    operations = [grant_operation(PERMISSIONS)]
