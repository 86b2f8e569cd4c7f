# The prediction log keeps one entry per predicted row (its prediction_id is the answer's), with the
# feedback's true label. Entries of the earlier per-request log are not carried over.

import uuid

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("serving", "0001_initial")]

    operations = [
        migrations.DeleteModel(name="PredictionLog"),
        migrations.CreateModel(
            name="PredictionLog",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("prediction_id", models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                ("created", models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                ("model_sha256", models.CharField(max_length=64)),
                (
                    "source",
                    models.CharField(
                        choices=[
                            ("api", "POST /api/predict"),
                            ("image", "POST /api/predict/image"),
                            ("autolabel", "autolabel record"),
                        ],
                        default="api",
                        max_length=20,
                    ),
                ),
                ("inputs", models.JSONField()),
                ("prediction", models.JSONField()),
                ("probabilities", models.JSONField(blank=True, null=True)),
                ("label", models.JSONField(blank=True, null=True)),
                ("labelled_at", models.DateTimeField(blank=True, null=True)),
            ],
            options={
                "ordering": ("-id",),
                "indexes": [models.Index(fields=["model_sha256", "created"], name="serving_log_model_created")],
            },
        ),
    ]
