"""The prediction log's writer: a request appends its rows to a spool file; a thread moves them to the database.

A commit per predict request would cost more than the prediction, and a request that waited for the
database would fail with it. So a request only appends its rows to its process's spool file
(spool.py: no SIGKILL loses them), and every SERVING_PREDICTION_LOG_FLUSH_SECONDS a thread of each
process moves the spooled rows, its own and those dead processes left, to the database. A file goes
only once its rows are committed; a refused transaction leaves them for the next try; a row written
twice is ignored (prediction_id is unique), so retries and two writers never duplicate one. The thread
also trims the log (retention.py), at most once a minute. With a flush interval of 0 (the tests),
each call writes at once, with no spool.
"""

import atexit
import contextlib
import logging
import os
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from django.db import DatabaseError, DataError, IntegrityError, close_old_connections, transaction
from django.utils import timezone
from prometheus_client import Counter

from . import conf, metrics, retention, spool
from .models import LogGap, PredictionLog

log = logging.getLogger(__name__)

TRIM_SECONDS = 60.0
REFUSED = "refused by the database (see the server log)"


def counted(counter: Counter, rows: int) -> None:
    """Count rows on one of the log's Prometheus counters, when metrics are on."""
    if rows and conf.setting("SERVING_METRICS"):
        counter.inc(rows)


def entries(rows: list[dict[str, Any]]) -> list[PredictionLog]:
    """The log entries of spooled rows (a line that is no row is logged and left out)."""
    made = []
    for row in rows:
        try:
            made.append(PredictionLog(
                prediction_id=UUID(row["prediction_id"]), created=datetime.fromisoformat(row["created"]),
                model_sha256=row["model_sha256"], source=row["source"], inputs=row["inputs"],
                prediction=row["prediction"], probabilities=row.get("probabilities"),
            ))  # fmt: skip
        except (KeyError, TypeError, ValueError) as exc:
            log.error("prediction log: skipped a spooled line that is no row (%r): %.100r", exc, row)
    return made


def insert(rows: list[dict[str, Any]]) -> int:
    """Insert the rows in one transaction, each already there left as it is; how many were refused.

    A row the database refuses for good (not for an outage) would block the spool forever: a batch
    that holds one is inserted row by row, and only the refused rows are dropped (counted as a gap).
    """
    made = entries(rows)
    try:
        with transaction.atomic():
            PredictionLog.objects.bulk_create(made, batch_size=500, ignore_conflicts=True)
        return len(rows) - len(made)
    except (DataError, IntegrityError):
        pass
    refused = len(rows) - len(made)
    for one in made:
        try:
            with transaction.atomic():
                PredictionLog.objects.bulk_create([one], ignore_conflicts=True)
        except (DataError, IntegrityError) as exc:
            log.error("prediction log: the database refused row %s: %s", one.prediction_id, exc)
            refused += 1
    return refused


class LogWriter:
    """This process's spool file, the files it holds until the database has their rows, and its thread."""

    def __init__(self) -> None:
        self._reset()
        self._exit_hook = False

    def _reset(self) -> None:
        """A fresh start, as in a forked process: none of its parent's files, thread or locks."""
        self._pid = os.getpid()
        self._lock = threading.Lock()  # appends and the swap of the file they go to
        self._cycle = threading.Lock()  # one move to the database at a time (the thread, a feedback, a stop)
        self._active: spool.SpoolFile | None = None
        self._held: list[spool.SpoolFile] = []  # sealed or adopted files, whose rows the database lacks
        self._spooled = 0  # the spool's bytes, all processes': measured each cycle, plus this one's appends since
        self._gaps: dict[str, tuple[datetime, int]] = {}  # dropped rows by reason: since when, how many
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._trimmed = float("-inf")
        self._failing = False

    def add(self, rows: list[dict[str, Any]]) -> None:
        """Spool the rows (with a flush interval of 0, write them now); a log never fails a prediction."""
        interval = float(conf.setting("SERVING_PREDICTION_LOG_FLUSH_SECONDS"))
        if interval <= 0:
            self.write_now(rows)
            return
        data = spool.encode(rows)
        if self._pid != os.getpid():
            self._reset()
        with self._lock:
            self._start(interval)
            problem = self._append(data)
            if problem:
                self._note_gap(len(rows), problem)
        counted(metrics.LOG_DROPPED if problem else metrics.LOG_QUEUED, len(rows))

    def _append(self, data: bytes) -> str | None:
        """Append to this process's spool file; why not, when not (a full spool, a folder it cannot write)."""
        limit = int(conf.setting("SERVING_PREDICTION_LOG_SPOOL_MAX_BYTES"))
        if self._spooled + len(data) > limit:
            return f"spool full: {limit:,} bytes (SERVING_PREDICTION_LOG_SPOOL_MAX_BYTES)"
        try:
            if self._active is None:
                self._active = spool.create(spool.folder())
            spool.append(self._active, data)
        except OSError as exc:
            return f"spool not writable: {exc}"[:200]
        self._spooled += len(data)
        return None

    def _note_gap(self, rows: int, reason: str) -> None:
        """Remember dropped rows for a LogGap row, written once the database is reachable (with self._lock)."""
        since, dropped = self._gaps.get(reason, (timezone.now(), 0))
        if not dropped:
            log.error("prediction log: answered rows dropped, %s", reason)
        self._gaps[reason] = (since, dropped + rows)

    def write_now(self, rows: list[dict[str, Any]]) -> None:
        """Insert the rows and trim the log at once (a flush interval of 0); a refusal is logged, not raised."""
        try:
            with transaction.atomic():
                if refused := insert(rows):
                    LogGap.objects.create(rows=refused, reason=REFUSED)
                retention.trim()
        except DatabaseError as exc:
            log.warning("prediction not logged: %s", exc)
            counted(metrics.LOG_DROPPED, len(rows))
            return
        counted(metrics.LOG_QUEUED, len(rows))
        counted(metrics.LOG_WRITTEN, len(rows) - refused)
        counted(metrics.LOG_DROPPED, refused)

    def start(self) -> None:
        """Start this process's thread now if the log is spooled: it adopts what dead processes left, unasked."""
        interval = float(conf.setting("SERVING_PREDICTION_LOG_FLUSH_SECONDS"))
        if conf.setting("SERVING_PREDICTION_LOG") and interval > 0:
            if self._pid != os.getpid():
                self._reset()
            with self._lock:
                self._start(interval)

    def _start(self, interval: float) -> None:
        """Start the thread unless it runs (with self._lock)."""
        if self._thread is not None and self._thread.is_alive() and not self._stop.is_set():
            return
        self._stop = threading.Event()  # the thread before, if any, ends with its own
        self._thread = threading.Thread(target=self._run, args=(interval, self._stop), name="prediction-log",
                                        daemon=True)  # fmt: skip
        self._thread.start()
        if not self._exit_hook:  # a process that ends without gunicorn's worker_exit hook
            atexit.register(self.stop)
            self._exit_hook = True

    def _run(self, interval: float, stop: threading.Event) -> None:
        while not stop.wait(interval):
            try:
                self.flush()
                if not self._failing and time.monotonic() - self._trimmed >= TRIM_SECONDS:
                    self._trimmed = time.monotonic()
                    retention.trim()
            except Exception:  # the thread must outlive any one failure: the next cycle tries again
                log.exception("prediction log: spooled rows not moved to the database")
            finally:
                close_old_connections()  # this thread's connection, as a request's would be (a broken one too)

    def flush(self, wait: bool = True) -> int:
        """Move the spooled rows to the database now, this process's and dead ones'; how many were written.

        Without `wait`, a move already under way (the thread's, after an outage maybe a long one) is
        left to finish, and nothing is done.
        """
        if self._pid != os.getpid():
            self._reset()
        if not self._cycle.acquire(blocking=wait):
            return 0
        try:
            return self._move(spool.folder())
        finally:
            self._cycle.release()

    def _move(self, where: Path) -> int:
        """One move: the files held from before and dead processes' files first, then what requests appended."""
        try:
            self._held += spool.orphans(where, {file.path for file in self._held})
        except OSError as exc:  # an unreadable folder: this process's own files still go
            log.warning("prediction log: cannot read the spool folder %s: %s", where, exc)
        written = 0
        try:
            while self._held:
                written += self._write(self._held[0])
            if self._seal(where):  # only now: during an outage requests keep appending to one file, not one a cycle
                written += self._write(self._held[0])
            self._write_gaps()
        except DatabaseError as exc:
            self._wait_for_database(exc)
        else:
            if self._failing:
                log.warning("prediction log: the database takes rows again; the spool is written")
            self._failing = False
        with contextlib.suppress(OSError):
            self._spooled = spool.size(where)
        return written

    def _seal(self, where: Path) -> bool:
        """Hand the file requests append to over to the writer, and give requests a new one; whether it had rows."""
        with self._lock:
            if self._active is None or self._active.size == 0:
                return False
        try:
            fresh: spool.SpoolFile | None = spool.create(where)
        except OSError:  # the next request tries again, and drops its rows if it cannot
            fresh = None
        with self._lock:
            sealed, self._active = self._active, fresh
        if sealed is not None:
            self._held.append(sealed)
        return sealed is not None

    def _write(self, file: spool.SpoolFile) -> int:
        """Insert a held file's rows, a transaction per block, then remove it; DatabaseError leaves the rest."""
        written = 0
        for rows, end in spool.batches(file):
            refused = insert(rows)
            file.done = end
            written += len(rows) - refused
            counted(metrics.LOG_WRITTEN, len(rows) - refused)
            if refused:
                counted(metrics.LOG_DROPPED, refused)
                with self._lock:
                    self._note_gap(refused, REFUSED)
        spool.release(file)
        self._held.remove(file)
        return written

    def _write_gaps(self) -> None:
        """Record the dropped rows in LogGap, where the monitor names them."""
        with self._lock:
            gaps, self._gaps = self._gaps, {}
        if not gaps:
            return
        try:
            LogGap.objects.bulk_create([LogGap(created=since, rows=n, reason=why) for why, (since, n) in gaps.items()])
        except DatabaseError:
            with self._lock:
                for reason, (since, rows) in gaps.items():
                    first, more = self._gaps.get(reason, (since, 0))
                    self._gaps[reason] = (min(first, since), rows + more)
            raise

    def _wait_for_database(self, exc: DatabaseError) -> None:
        """The database refused: the held files stay for the next cycle, on the disk from now on."""
        for file in self._held:
            spool.sync(file)
        if (active := self._active) is not None:  # and what requests append meanwhile, once a cycle
            with contextlib.suppress(OSError):
                os.fsync(active.fd)
        if not self._failing:
            log.warning("prediction log: rows kept in the spool until the database takes them: %s", exc)
        self._failing = True

    def stop(self) -> None:
        """Stop the thread and move what is spooled to the database (a stopping worker); what it refuses stays."""
        self._stop.set()
        if self._pid != os.getpid():
            return
        self.flush()
        with self._lock:
            if self._active is not None and self._active.size == 0:  # nothing to leave behind
                spool.release(self._active)
                self._active = None


writer = LogWriter()
