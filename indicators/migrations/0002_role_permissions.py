"""Indicator permissions: supervisors run and submit their reports and enter targets,
figures and assessments; statistics viewers read reports (suppressed); administrators
keep the plans' structure in the admin."""

from django.db import migrations

from accounts.migration_ops import grant_operation

STRUCTURE = [
    f"indicators.{action}_{model}"
    for model in ("plan", "direction", "indicator", "target")
    for action in ("view", "add", "change")
]
PERMISSIONS = {
    "supervisor": [
        "indicators.view_plan",
        "indicators.view_exact_figures",
        "indicators.submit_report",
        "indicators.add_target",
        "indicators.change_target",
        "indicators.add_manualvalue",
        "indicators.change_manualvalue",
        "indicators.add_assessment",
        "indicators.change_assessment",
    ],
    "statistics_viewer": ["indicators.view_plan"],
    "system_admin": STRUCTURE,
}


class Migration(migrations.Migration):
    dependencies = [("indicators", "0001_initial"), ("accounts", "0004_grant_unlock")]

    operations = [grant_operation(PERMISSIONS)]
