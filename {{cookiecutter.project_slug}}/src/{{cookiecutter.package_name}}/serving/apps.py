"""Django app configuration of the serving app."""

from django.apps import AppConfig


class ServingConfig(AppConfig):
    """Serves the model trained by the pipeline."""

    name = "{{ cookiecutter.package_name }}.serving"
    label = "serving"
    verbose_name = "Model serving"
    default_auto_field = "django.db.models.BigAutoField"
