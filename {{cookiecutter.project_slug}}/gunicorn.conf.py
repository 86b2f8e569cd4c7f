"""gunicorn settings: the app (and its verified model) is loaded once, before the workers fork."""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
preload_app = True  # config.wsgi loads the model at import: one copy, shared copy-on-write
wsgi_app = "config.wsgi:application"
accesslog = "-"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))


def post_fork(server: object, worker: object) -> None:
    """Each worker opens its own ONNX session: onnxruntime, loaded before a fork, hangs the workers' exit."""
    import contextlib

    from {{ cookiecutter.package_name }}.serving.model_store import ModelUnavailable, store

    with contextlib.suppress(ModelUnavailable):  # /api/health says why
        store.get().loaded.open()
