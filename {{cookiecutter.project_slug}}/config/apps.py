"""The Django project as an app of its own, so that its system checks run with every command that checks."""

from django.apps import AppConfig


class SiteConfig(AppConfig):
    """The site: settings checks."""

    name = "config"
    verbose_name = "site"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers them)
