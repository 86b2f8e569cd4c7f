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
        """Register the settings check, and have each loaded model recorded in the database (ModelVersion)."""
        from .model_store import store  # the ORM's models are importable only once the apps are ready
        from .records import register_on_startup

        checks.register(conf.check_model_path)
        if register_on_startup not in store.on_load:
            store.on_load.append(register_on_startup)
