"""Django app configuration of the autolabel app."""

from django.apps import AppConfig


class AutolabelConfig(AppConfig):
    """Records labelled by the served model: the worked example of a site using the model in process."""

    name = "{{ cookiecutter.package_name }}.autolabel"
    label = "autolabel"
    verbose_name = "Labelled records"
    default_auto_field = "django.db.models.BigAutoField"
