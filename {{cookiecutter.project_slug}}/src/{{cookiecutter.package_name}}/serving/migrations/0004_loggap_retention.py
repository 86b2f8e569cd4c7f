# The prediction log's retention and losses: an index that finds the oldest unlabelled rows (deleted
# first), and LogGap, the rows answered but dropped before the database (a full spool).

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("serving", "0003_monitorrun"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="predictionlog",
            index=models.Index(
                condition=models.Q(label__isnull=True), fields=["created", "id"], name="serving_log_unlabelled"
            ),
        ),
        migrations.CreateModel(
            name="LogGap",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("created", models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                ("rows", models.PositiveIntegerField()),
                ("reason", models.CharField(max_length=200)),
            ],
            options={
                "ordering": ("-created",),
            },
        ),
    ]
