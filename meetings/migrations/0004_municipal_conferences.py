"""Municipal case conferences (issue 19, point 6): a conference about residents not in the
system records how many were discussed, as a count and nothing else."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("meetings", "0003_fewer_write_indexes")]

    operations = [
        migrations.AddField(
            model_name="historicalmeeting",
            name="unregistered_cases_discussed",
            field=models.PositiveSmallIntegerField(
                default=0, verbose_name="登録外の住民の検討件数"
            ),
        ),
        migrations.AddField(
            model_name="meeting",
            name="unregistered_cases_discussed",
            field=models.PositiveSmallIntegerField(
                default=0, verbose_name="登録外の住民の検討件数"
            ),
        ),
    ]
