"""Database tables: the model versions this service served and the optional prediction log, both in the admin."""

import uuid

from django.db import models
from django.utils import timezone


class ModelVersion(models.Model):
    """A model this service has served, as its manifest describes it."""

    version = models.CharField(max_length=100)
    sha256 = models.CharField(max_length=64, unique=True)
    git_commit = models.CharField(max_length=40, blank=True)
    estimator = models.CharField(max_length=100, blank=True)
    task = models.CharField(max_length=20, blank=True)
    metrics = models.JSONField(default=dict)
    params = models.JSONField(default=dict)
    manifest = models.JSONField(default=dict)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-created",)

    def __str__(self) -> str:
        return f"{self.version} ({self.sha256[:12]})"


class PredictionLog(models.Model):
    """One predicted row: what the model was asked and answered, and the truth once feedback brings it.

    Kept only when SERVING_PREDICTION_LOG is on. Its prediction_id, made with the answer (before the
    row is written: log_writer.py), is what the answer gives and POST /api/feedback names.
    """

    SOURCES = (("api", "POST /api/predict"), ("image", "POST /api/predict/image"), ("autolabel", "autolabel record"))

    prediction_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # A default, not auto_now_add: the time of the answer, not of the write (and an import may give its own).
    created = models.DateTimeField(default=timezone.now, db_index=True)
    model_sha256 = models.CharField(max_length=64)
    source = models.CharField(max_length=20, choices=SOURCES, default="api")
    inputs = models.JSONField()  # the validated row; for an image its file name, brightness and contrast
    prediction = models.JSONField()
    probabilities = models.JSONField(null=True, blank=True)
    label = models.JSONField(null=True, blank=True)  # the true label or value, from POST /api/feedback
    labelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-id",)
        indexes = (
            models.Index(fields=("model_sha256", "created"), name="serving_log_model_created"),
            # Retention deletes the oldest unlabelled rows first (retention.py): this finds them without a scan.
            models.Index(
                fields=("created", "id"), condition=models.Q(label__isnull=True), name="serving_log_unlabelled"
            ),
        )

    def __str__(self) -> str:
        return f"prediction {self.pk} at {self.created:%Y-%m-%d %H:%M:%S}"


class LogGap(models.Model):
    """Answered rows the prediction log lost before the database (a full spool), so the monitor can name them."""

    created = models.DateTimeField(default=timezone.now, db_index=True)  # the first dropped row's time
    rows = models.PositiveIntegerField()
    reason = models.CharField(max_length=200)

    class Meta:
        ordering = ("-created",)

    def __str__(self) -> str:
        return f"{self.rows} log rows lost at {self.created:%Y-%m-%d %H:%M:%S}: {self.reason}"


class MonitorRun(models.Model):
    """One `manage.py monitor` run: its verdict on one model's window, kept as the monitor's history.

    The Monitoring page draws drift and live quality over these runs, and /metrics exports the
    newest, so Prometheus alerts on a verdict, and on a monitor that stopped running.
    """

    created = models.DateTimeField(default=timezone.now, db_index=True)
    version = models.CharField(max_length=100, blank=True)
    model_sha256 = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=20)  # monitoring/report.py's VERDICTS
    message = models.TextField(blank=True)
    rows = models.PositiveIntegerField(default=0)
    drifted = models.PositiveIntegerField(default=0)  # checks that drifted
    checks = models.PositiveIntegerField(default=0)
    metric = models.CharField(max_length=20, blank=True)  # the quality metric judged: accuracy, f1_macro, mae
    live = models.FloatField(null=True, blank=True)  # its value on the labelled rows
    test = models.FloatField(null=True, blank=True)  # its value on the test set
    labelled = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ("-created",)

    def __str__(self) -> str:
        return f"monitor run {self.created:%Y-%m-%d %H:%M}: {self.status}"
