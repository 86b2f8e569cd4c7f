"""Admin pages for the ops colleague: which models served, what they were asked, and what the monitor found."""

from django.contrib import admin
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpRequest

from .models import LogGap, ModelVersion, MonitorRun, PredictionLog


class RecordAdmin(admin.ModelAdmin):
    """Records the server writes (a model it served, a request it answered): read and delete, never add by hand."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(ModelVersion)
class ModelVersionAdmin(RecordAdmin):
    list_display = ("version", "sha256", "git_commit", "estimator", "task", "metrics", "created")
    search_fields = ("version", "sha256", "git_commit")
    readonly_fields = (*list_display, "params", "manifest")


@admin.register(PredictionLog)
class PredictionLogAdmin(RecordAdmin):
    list_display = ("id", "created", "version", "source", "prediction", "label")
    list_filter = ("source", "model_sha256", "created")
    readonly_fields = ("created", "version", "model_sha256", "source", "inputs", "prediction", "probabilities",
                       "label", "labelled_at")  # fmt: skip

    def get_queryset(self, request: HttpRequest) -> QuerySet[PredictionLog]:
        """Each entry with the version name of the model that answered it (in one query, not one per row)."""
        named = ModelVersion.objects.filter(sha256=OuterRef("model_sha256")).values("version")[:1]
        return super().get_queryset(request).annotate(version=Subquery(named))

    @admin.display(description="model version", ordering="version")
    def version(self, entry: PredictionLog) -> str:
        """The answering model's version name, or its sha256 prefix if it was never registered."""
        return getattr(entry, "version", None) or entry.model_sha256[:12]


@admin.register(MonitorRun)
class MonitorRunAdmin(RecordAdmin):
    list_display = ("created", "version", "status", "rows", "drifted", "checks", "metric", "live", "test", "labelled")
    list_filter = ("status", "version", "created")
    readonly_fields = (*list_display, "model_sha256", "message")


@admin.register(LogGap)
class LogGapAdmin(RecordAdmin):
    list_display = ("created", "rows", "reason")
    readonly_fields = list_display
