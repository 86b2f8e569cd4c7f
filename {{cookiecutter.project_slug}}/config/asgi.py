"""ASGI entry point, for servers that speak ASGI."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_asgi_application()

from config.checks import require_secret_key  # noqa: E402  (after setup)

require_secret_key()  # ASGI servers run no system checks: stop here rather than at the first login
