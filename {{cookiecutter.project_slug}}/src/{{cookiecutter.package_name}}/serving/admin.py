"""Admin pages for the ops colleague: which models served, and what they were asked."""

from django.contrib import admin

from .models import ModelVersion, PredictionLog


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ("version", "sha256", "git_commit", "estimator", "task", "metrics", "created")
    search_fields = ("version", "sha256", "git_commit")
    readonly_fields = (*list_display, "params", "manifest")


@admin.register(PredictionLog)
class PredictionLogAdmin(admin.ModelAdmin):
    list_display = ("created", "model_sha256", "rows")
    list_filter = ("model_sha256",)
    readonly_fields = ("created", "model_sha256", "rows", "inputs", "outputs")
