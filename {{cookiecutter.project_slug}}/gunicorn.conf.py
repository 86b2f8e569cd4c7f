"""gunicorn settings: the app (and its verified model) is loaded once, before the workers fork."""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
preload_app = True  # config.wsgi loads the model at import: one copy, shared copy-on-write
wsgi_app = "config.wsgi:application"
accesslog = "-"
# The app's own log lines ("model not served: ...") go to the error log too: a --daemon has no terminal.
capture_output = True
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# Seconds a worker gets to finish its request on shutdown before it is killed: `docker stop`'s own 10.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "10"))


def post_fork(server: object, worker: object) -> None:
    """Each worker opens its own ONNX session: onnxruntime, loaded before a fork, hangs the workers' exit."""
    import contextlib

    from {{ cookiecutter.package_name }}.serving.model_store import ModelUnavailable, store

    with contextlib.suppress(ModelUnavailable):  # /api/health says why
        store.get().loaded.open()
    from {{ cookiecutter.package_name }}.serving.log_writer import writer

    writer.start()  # the prediction log's thread: it also writes what dead workers and earlier runs left spooled
    from {{ cookiecutter.package_name }}.serving import metrics

    metrics.start_sampling()  # each worker's memory and CPU in /metrics, labelled by its pid


def worker_exit(server: object, worker: object) -> None:
    """Close the worker's ONNX session while the interpreter is whole, not in its teardown, where it can hang."""
    import contextlib

    from {{ cookiecutter.package_name }}.serving.model_store import ModelUnavailable, store

    with contextlib.suppress(ModelUnavailable):
        store.get().loaded.close()
    from {{ cookiecutter.package_name }}.serving.log_writer import writer

    writer.stop()  # write the prediction log's spooled rows before the worker goes (a refused write stays spooled)


def child_exit(server: object, worker: object) -> None:
    """Drop a dead worker's live gauges from /metrics (its counters stay: they are the history)."""
    import os

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]


def worker_abort(worker: object) -> None:
    """A request overran GUNICORN_TIMEOUT: count it, as the 500 its client gets, before the worker goes."""
    from {{ cookiecutter.package_name }}.serving import metrics

    metrics.worker_aborted()
