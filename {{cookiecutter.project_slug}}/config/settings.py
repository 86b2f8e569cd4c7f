"""Django settings, all from the environment (12-factor): safe defaults for production."""

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    """A yes/no environment variable: 1, true, yes, on (any case) mean yes."""
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    """A comma-separated environment variable."""
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", False)
# Required outside debug, where a server starts (config/checks.py: `check`, `migrate`, `runserver`,
# gunicorn through config/wsgi.py); batch commands such as predict_file sign nothing and run without it.
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY and DEBUG:
    SECRET_KEY = "insecure-development-key-only-used-with-DJANGO_DEBUG-on"
# Old keys still accepted for what they signed (sessions, password-reset links) while a new key rolls out.
SECRET_KEY_FALLBACKS = env_list("DJANGO_SECRET_KEY_FALLBACKS", "")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "{{ cookiecutter.package_name }}.serving",
    "{{ cookiecutter.package_name }}.autolabel",  # the worked example of an app of your own using the model
    "config",  # the site's own system checks
]
MIDDLEWARE = [
    "{{ cookiecutter.package_name }}.serving.metrics.MetricsMiddleware",  # first: it times the whole answer
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# SQLite in the project folder unless DATABASE_URL names another database (postgres://user:pw@host/db).
DATABASES = {
    "default": dj_database_url.config(default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}", conn_max_age=60),
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", BASE_DIR / "staticfiles"))
# Uploaded files (the autolabel records' images); serve them from a web server or object storage in production.
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("DJANGO_MEDIA_ROOT", BASE_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# HTTPS: on unless DJANGO_DEBUG; DJANGO_SECURE_SSL_REDIRECT=off for plain-HTTP runs behind a proxy
# that does not terminate TLS (or local tests). The health check and /metrics are never redirected: a probe
# and an in-cluster Prometheus speak plain HTTP (guard /metrics with SERVING_METRICS_TOKEN or the network).
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^api/health$", r"^metrics$"]
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_SECURE_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# Serving: where the model is, and the limits a request must respect.
SERVING_MODEL_PATH = Path(os.environ.get("SERVING_MODEL_PATH", BASE_DIR / "models" / "model.joblib"))
SERVING_RUNTIME = os.environ.get("SERVING_RUNTIME", "auto")  # auto: models/model.onnx when checked, else the pickle
SERVING_MAX_ROWS = int(os.environ.get("SERVING_MAX_ROWS", "1000"))
DATA_UPLOAD_MAX_NUMBER_FILES = SERVING_MAX_ROWS  # images per upload: one file per row (Django's own limit: 100)
SERVING_MAX_TEXT_CHARS = int(os.environ.get("SERVING_MAX_TEXT_CHARS", "10000"))  # per text feature of a row
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("SERVING_MAX_BODY_BYTES", str(5 * 1024 * 1024)))
SERVING_MAX_UPLOAD_BYTES = int(os.environ.get("SERVING_MAX_UPLOAD_BYTES", str(10 * 1024 * 1024)))  # image uploads
SERVING_MAX_IMAGE_PIXELS = int(os.environ.get("SERVING_MAX_IMAGE_PIXELS", "25000000"))  # per image, before decoding
SERVING_PREDICTION_LOG = env_bool("SERVING_PREDICTION_LOG", False)
# Retention: at most MAX_ROWS rows (beyond, the oldest unlabelled go first); unlabelled rows MAX_AGE_DAYS,
# labelled ones LABELLED_MAX_AGE_DAYS (a true label that arrives weeks later still finds its row).
SERVING_PREDICTION_LOG_MAX_ROWS = int(os.environ.get("SERVING_PREDICTION_LOG_MAX_ROWS", "1000000"))
SERVING_PREDICTION_LOG_MAX_AGE_DAYS = float(os.environ.get("SERVING_PREDICTION_LOG_MAX_AGE_DAYS", "90"))
SERVING_PREDICTION_LOG_LABELLED_MAX_AGE_DAYS = float(
    os.environ.get("SERVING_PREDICTION_LOG_LABELLED_MAX_AGE_DAYS", "365")
)
# A request appends its rows to its process's spool file; this often a thread moves them to the database,
# in one transaction: a request never waits for a commit, and a crash or an outage loses nothing.
SERVING_PREDICTION_LOG_FLUSH_SECONDS = float(os.environ.get("SERVING_PREDICTION_LOG_FLUSH_SECONDS", "1"))
# Kept across restarts (start.sh never empties it): a volume in Kubernetes. Rows beyond the cap are dropped, counted.
SERVING_PREDICTION_LOG_SPOOL_DIR = Path(
    os.environ.get("SERVING_PREDICTION_LOG_SPOOL_DIR", BASE_DIR / "var" / "prediction-log")
)
SERVING_PREDICTION_LOG_SPOOL_MAX_BYTES = int(os.environ.get("SERVING_PREDICTION_LOG_SPOOL_MAX_BYTES", str(1024**3)))
# Prometheus metrics at /metrics; with a token, a scraper must send it (Authorization: Bearer <token>).
SERVING_METRICS = env_bool("SERVING_METRICS", True)
SERVING_METRICS_TOKEN = os.environ.get("SERVING_METRICS_TOKEN", "")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
}
