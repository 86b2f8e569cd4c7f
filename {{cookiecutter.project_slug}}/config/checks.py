"""The site's own system checks: what `manage.py check`, `migrate` and `runserver` refuse to run without."""

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register
from django.core.exceptions import ImproperlyConfigured

SECRET_KEY_MISSING = "DJANGO_SECRET_KEY must be set (or DJANGO_DEBUG=on for local development)"


def require_secret_key() -> None:
    """Stop a web server without a secret key at start-up, not at its first login or form."""
    try:
        settings.SECRET_KEY  # noqa: B018  (Django raises on an empty key only when it is read)
    except ImproperlyConfigured:
        raise ImproperlyConfigured(SECRET_KEY_MISSING) from None


@register()
def secret_key_is_set(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """The web server's key: required, except for commands that skip the checks (predict_file)."""
    try:
        require_secret_key()
    except ImproperlyConfigured as exc:
        return [Error(str(exc), id="config.E001")]
    return []
