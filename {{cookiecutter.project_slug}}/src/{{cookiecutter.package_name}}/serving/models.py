"""Database tables: the model versions this service served and the optional prediction log, both in the admin."""

from django.db import models


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
    """What the model was asked and answered (kept only when SERVING_PREDICTION_LOG is on)."""

    created = models.DateTimeField(auto_now_add=True, db_index=True)
    model_sha256 = models.CharField(max_length=64)
    rows = models.PositiveIntegerField()
    inputs = models.JSONField()
    outputs = models.JSONField()

    class Meta:
        ordering = ("-created",)

    def __str__(self) -> str:
        return f"{self.rows} rows at {self.created:%Y-%m-%d %H:%M:%S}"
