{% if cookiecutter.__kind == "entities" -%}
"""A record of your own site (a text, an image or a table row) that the served model labels when it is saved.

An entity tagger tags the record's text instead: `entities` holds what it found, `label` their labels.
"""
{%- else -%}
"""A record of your own site (a text, an image or a table row) that the served model labels when it is saved."""
{%- endif %}

from typing import Any

from django.db import models

from . import labelling

# What labelling writes: saved with the record, whatever update_fields a caller names.
{%- if cookiecutter.__kind == "entities" %}
LABEL_FIELDS = ("label", "entities", "confidence", "model_version", "labelled_at", "label_error")
{%- else %}
LABEL_FIELDS = ("label", "confidence", "model_version", "labelled_at", "label_error")
{%- endif %}


class Record(models.Model):
    """The model's inputs and the label the served model gave them."""

    text = models.TextField(blank=True, help_text="A comment or article: the input of a model with one text feature.")
    # A FileField, not an ImageField: the model's own image loader checks the file when it labels it.
    image = models.FileField(upload_to="records/", blank=True, help_text="An image file, for an image model.")
    row = models.JSONField(default=dict, blank=True, help_text='The table inputs: {"feature": value, ...}.')
    label = models.CharField(max_length=255, blank=True, editable=False)
{%- if cookiecutter.__kind == "entities" %}
    entities = models.JSONField(
        default=list,
        blank=True,
        editable=False,
        help_text='An entity tagger\'s finds in the text: [{"start", "end", "label", "text", "confidence"}].',
    )
{%- endif %}
    confidence = models.FloatField(
        null=True, blank=True, editable=False, help_text="The top class probability (a tagger's: its least sure find)."
    )
    model_version = models.CharField(max_length=100, blank=True, editable=False)
    labelled_at = models.DateTimeField(null=True, blank=True, editable=False)
    label_error = models.TextField(blank=True, editable=False, help_text="Why the model could not label it.")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-created",)

    def __str__(self) -> str:
        return self.text[:60] or self.image.name or f"record {self.pk or '(new)'}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Label the record with the served model, then save it (an unlabelled record is saved too).

        Overriding save() rather than a pre_save signal keeps the behaviour in the model, where a
        reader looks for it; signals are for reacting to models of apps you do not own. Both run on
        every save() (admin, forms, the shell) and neither on QuerySet.update() or bulk_create().
        """
        labelling.label(self)
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], *LABEL_FIELDS}
        super().save(*args, **kwargs)
