"""Settings for the test suite: the production settings with a throwaway key, over plain HTTP."""

import os
import tempfile

os.environ.setdefault("DJANGO_SECRET_KEY", "tests-only-key-never-used-in-production-0123456789abcdef")
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "off")

from .settings import *  # noqa: F403

SERVING_PREDICTION_LOG_FLUSH_SECONDS = 0.0  # the log written at once, so a test reads what it just predicted
# A spool folder of this test process's own: never a dev server's leftover files in the project's var/.
SERVING_PREDICTION_LOG_SPOOL_DIR = tempfile.mkdtemp(prefix="prediction-spool-")
