"""The prediction log's writer: a request only queues its rows; a thread of the process inserts them in batches.

A database commit per predict request would cost more than the prediction itself (a SQLite commit
syncs the disk; PostgreSQL's waits for its write-ahead log). So every
SERVING_PREDICTION_LOG_FLUSH_SECONDS the writer inserts what queued in one transaction and trims
the log to SERVING_PREDICTION_LOG_MAX_ROWS. With 0 (the tests), each call writes at once. A
stopping worker flushes first (gunicorn's worker_exit hook, and atexit); a crash loses at most
one interval of rows.
"""

import atexit
import logging
import os
import threading

from django.db import DatabaseError, close_old_connections, transaction

from . import conf
from .models import PredictionLog

log = logging.getLogger(__name__)


def write(entries: list[PredictionLog]) -> None:
    """Insert the entries and keep only the newest SERVING_PREDICTION_LOG_MAX_ROWS; a refusal is logged, not raised."""
    try:
        with transaction.atomic():
            saved = PredictionLog.objects.bulk_create(entries, batch_size=500)
            cutoff = (saved[-1].pk or 0) - conf.setting("SERVING_PREDICTION_LOG_MAX_ROWS")
            if cutoff > 0:
                PredictionLog.objects.filter(pk__lte=cutoff).delete()
    except DatabaseError as exc:
        log.warning("prediction not logged: %s", exc)


class LogWriter:
    """The rows waiting to be written, and the thread that writes them (one per process: a fork starts anew)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queued: list[PredictionLog] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = 0

    def add(self, entries: list[PredictionLog]) -> None:
        """Queue the entries (or write them now, with a flush interval of 0)."""
        interval = float(conf.setting("SERVING_PREDICTION_LOG_FLUSH_SECONDS"))
        if interval <= 0:
            write(entries)
            return
        with self._lock:
            self._queued += entries
            alive = self._thread is not None and self._thread.is_alive() and self._pid == os.getpid()
            if not alive:  # the first rows of this process (a forked worker has no thread of its parent's)
                self._pid, self._stop = os.getpid(), threading.Event()
                self._thread = threading.Thread(target=self._run, args=(interval,), name="prediction-log", daemon=True)
                self._thread.start()
                atexit.register(self.stop)

    def _run(self, interval: float) -> None:
        while not self._stop.wait(interval):
            try:
                if self.flush():
                    close_old_connections()  # this thread's connection, as a request's would be
            except Exception:  # the thread must outlive a bad batch: the next one may go through
                log.exception("prediction log rows not written")

    def flush(self) -> int:
        """Write what is queued now; how many rows."""
        with self._lock:
            entries, self._queued = self._queued, []
        if entries:
            write(entries)
        return len(entries)

    def stop(self) -> None:
        """Stop the thread and write what is left (a stopping worker)."""
        self._stop.set()
        self.flush()


writer = LogWriter()
