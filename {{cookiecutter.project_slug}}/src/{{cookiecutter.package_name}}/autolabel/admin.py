"""The records in the admin: each one's label and the model version that gave it, and a relabel action."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
{%- if cookiecutter.__kind == "entities" %}
from django.utils.html import format_html, format_html_join
{%- endif %}
from django.utils.translation import ngettext

from ..serving.model_store import ModelUnavailable, store
from .models import LABEL_FIELDS, Record


@admin.register(Record)
class RecordAdmin(admin.ModelAdmin):
    list_display = ("__str__", "label", "confidence", "model_version", "labelled_at", "label_error")
    list_filter = ("label", "model_version")
    search_fields = ("text", "label")
{%- if cookiecutter.__kind == "entities" %}
    readonly_fields = ("tagged_text", *LABEL_FIELDS, "created")
{%- else %}
    readonly_fields = (*LABEL_FIELDS, "created")
{%- endif %}
    actions = ("relabel",)
{%- if cookiecutter.__kind == "entities" %}

    @admin.display(description="Entities in the text")
    def tagged_text(self, record: Record) -> str:
        """The text with each entity the tagger found marked and labelled: what the model saw, at a glance."""
        if not record.entities:
            return "-"
        parts, position = [], 0
        for entity in sorted(record.entities, key=lambda entity: entity["start"]):
            parts.append((record.text[position : entity["start"]], ""))
            parts.append((record.text[entity["start"] : entity["end"]], entity["label"]))
            position = entity["end"]
        parts.append((record.text[position:], ""))
        marked = (
            (format_html("<mark>{}</mark> <sup>{}</sup>", text, label) if label else text,) for text, label in parts
        )
        return format_html_join("", "{}", marked)
{%- endif %}

    @admin.action(description="Relabel with the current model")
    def relabel(self, request: HttpRequest, queryset: QuerySet[Record]) -> None:
        """Label the selected records again with the model served now; an unavailable model changes none."""
        try:
            store.get()
        except ModelUnavailable as exc:
            self.message_user(request, f"Nothing relabelled: model unavailable: {exc}", messages.ERROR)
            return
        failed = 0
        for record in queryset:
            record.save(update_fields=LABEL_FIELDS)  # save() labels it
            failed += bool(record.label_error)
        done = len(queryset) - failed
        text = ngettext("Relabelled %d record", "Relabelled %d records", done) % done
        if failed:
            text += f"; {failed} could not be labelled (the label error column says why)"
        self.message_user(request, f"{text}.", messages.WARNING if failed else messages.SUCCESS)
