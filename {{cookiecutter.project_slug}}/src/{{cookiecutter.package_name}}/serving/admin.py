"""Admin pages for the ops colleague: which models served, and what they were asked."""

from django.contrib import admin
from django.http import HttpRequest

from .models import ModelVersion, PredictionLog


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
    list_display = ("created", "model_sha256", "rows")
    list_filter = ("model_sha256",)
    readonly_fields = ("created", "model_sha256", "rows", "inputs", "outputs")
