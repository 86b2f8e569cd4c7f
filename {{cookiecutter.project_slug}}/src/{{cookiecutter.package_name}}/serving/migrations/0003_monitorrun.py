# The monitor's history: one row per `manage.py monitor` run (the Monitoring page and /metrics read it).

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("serving", "0002_prediction_per_row"),
    ]

    operations = [
        migrations.CreateModel(
            name="MonitorRun",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("created", models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                ("version", models.CharField(blank=True, max_length=100)),
                ("model_sha256", models.CharField(blank=True, max_length=64)),
                ("status", models.CharField(max_length=20)),
                ("message", models.TextField(blank=True)),
                ("rows", models.PositiveIntegerField(default=0)),
                ("drifted", models.PositiveIntegerField(default=0)),
                ("checks", models.PositiveIntegerField(default=0)),
                ("metric", models.CharField(blank=True, max_length=20)),
                ("live", models.FloatField(blank=True, null=True)),
                ("test", models.FloatField(blank=True, null=True)),
                ("labelled", models.PositiveIntegerField(default=0)),
            ],
            options={
                "ordering": ("-created",),
            },
        ),
    ]
