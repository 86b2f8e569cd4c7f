"""WSGI entry point. The model is loaded here, at import, so gunicorn's preload shares it with every worker."""

import contextlib
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

from config.checks import require_secret_key  # noqa: E402  (after setup)

require_secret_key()  # gunicorn runs no system checks: stop here rather than at the first login

from django.db import connections  # noqa: E402

from {{ cookiecutter.package_name }}.serving.model_store import ModelUnavailable, store  # noqa: E402

# A missing or tampered model is logged; /api/health answers 503 with the reason until one is in place.
with contextlib.suppress(ModelUnavailable):
    store.get()
connections.close_all()  # forked workers must not share the connection the registration opened
