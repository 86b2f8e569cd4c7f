"""Django app configuration of the serving app."""

from django.apps import AppConfig
from django.core import checks

from . import conf


class ServingConfig(AppConfig):
    """Serves the model trained by the pipeline."""

    name = "{{ cookiecutter.package_name }}.serving"
    label = "serving"
    verbose_name = "Model serving"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Register the settings check."""
        checks.register(conf.check_model_path)
