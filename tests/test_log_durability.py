"""The prediction log loses no answered prediction: not to a worker killed by SIGKILL, not to a locked database.

The default bake, trained and served by `start.sh` in production settings (gunicorn, 2 workers, the log
on, SQLite). Threads send one-row predictions throughout; every prediction_id answered with a 200 must
end up in the production database's log, exactly once.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import sqlite3
import threading
import time
import urllib.error
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from test_monitoring import call, free_port, gunicorn, production_env, stop

from conftest import Project

pytestmark = pytest.mark.xdist_group("log_durability")  # one worker trains and serves the project once

LOCK_SECONDS = 20
THREADS = 4
SETTLE_SECONDS = 20  # how long the writers get to move the spool to the database afterwards


@dataclass
class Served:
    """The running server: its address, production database, spool folder and gunicorn master."""

    base: str
    database: Path
    spool: Path
    master: int
    rows: list[dict[str, Any]]
    label: Any  # a class of the model, for feedback


@pytest.fixture(scope="module")
def served(bake_shared: Callable[..., Project], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The default project trained and served by start.sh: 2 workers, the prediction log on, its spool in scratch."""
    project = bake_shared(project_name="Durable")
    project.dvc("repro")
    scratch = tmp_path_factory.mktemp("durable")
    port = free_port()
    env = production_env(project, scratch, port) | {
        "SERVING_PREDICTION_LOG": "on",
        "SERVING_PREDICTION_LOG_SPOOL_DIR": str(scratch / "spool"),
    }
    manifest = project.json("models/model.json")
    frame = pd.read_parquet(project.path / "data" / "prepared" / "test.parquet").drop(columns=manifest["target"])
    server = gunicorn(project, env, scratch / "server.log")  # start.sh execs gunicorn: its pid is the master's
    try:
        yield Served(f"http://127.0.0.1:{port}", scratch / "production.sqlite3", scratch / "spool", server.pid,
                     json.loads(frame.to_json(orient="records")), manifest["classes"][0])  # fmt: skip
    finally:
        stop(server)


class Traffic:
    """Threads that send one-row predictions until the block ends; the prediction_ids answered with a 200."""

    def __init__(self, served: Served) -> None:
        self.served, self.ids, self.failed = served, [], 0
        self._lock, self._done = threading.Lock(), threading.Event()
        self._threads = [threading.Thread(target=self._send, args=(n,)) for n in range(THREADS)]

    def _send(self, offset: int) -> None:
        rows, count = self.served.rows, offset
        while not self._done.is_set():
            count += THREADS
            try:
                answer = call(f"{self.served.base}/api/predict", {"instances": [rows[count % len(rows)]]})
            except (OSError, http.client.HTTPException):  # a request the killed worker never answered (in full)
                with self._lock:
                    self.failed += 1
                continue
            with self._lock:
                self.ids += answer["prediction_ids"]

    def __enter__(self) -> Traffic:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        for thread in self._threads:
            thread.join()


def workers(master: int) -> list[int]:
    """The pids of gunicorn's workers: the processes whose parent is its master."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == master:
                children.append(int(stat.parent.name))
    return sorted(children)


def spooled_bytes(spool: Path, pid: int) -> int:
    """The bytes in a worker's spool files (named host-pid-random.spool)."""
    return sum(path.stat().st_size for path in spool.glob(f"*-{pid}-*.spool") if path.exists())


def logged(database: Path, ids: list[str]) -> int:
    """How many of these prediction_ids the production database's log holds (SQLite keeps a UUID as 32 hex digits)."""
    with contextlib.closing(sqlite3.connect(database, timeout=30)) as connection:
        found = {row[0] for row in connection.execute("SELECT prediction_id FROM serving_predictionlog")}
    return sum(uuid.UUID(i).hex in found for i in ids)


def rows_in_log(database: Path) -> int:
    with contextlib.closing(sqlite3.connect(database, timeout=30)) as connection:
        return connection.execute("SELECT COUNT(*) FROM serving_predictionlog").fetchone()[0]


def settled(served: Served, ids: list[str]) -> int:
    """How many of these ids are logged once the writers had their time (as soon as all are)."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while (found := logged(served.database, ids)) < len(ids) and time.monotonic() < deadline:
        time.sleep(0.5)
    return found


def drained(spool: Path) -> bool:
    """Whether the spool is empty, once the writers had their time: every spooled row is in the database."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while sum(path.stat().st_size for path in spool.glob("*.spool") if path.exists()) and time.monotonic() < deadline:
        time.sleep(0.5)
    return not sum(path.stat().st_size for path in spool.glob("*.spool") if path.exists())


def feedback(served: Served, prediction_id: str) -> Any:
    """POST /api/feedback for one prediction."""
    return call(f"{served.base}/api/feedback", {"feedback": [{"prediction_id": prediction_id, "label": served.label}]})


def test_a_worker_killed_by_sigkill_under_load_loses_no_answered_prediction(served: Served) -> None:
    with Traffic(served) as traffic:
        time.sleep(1.5)
        victim = workers(served.master)[0]
        deadline = time.monotonic() + 5
        while not spooled_bytes(served.spool, victim) and time.monotonic() < deadline:  # rows not yet written
            time.sleep(0.01)
        at_risk = spooled_bytes(served.spool, victim)
        os.kill(victim, signal.SIGKILL)
        time.sleep(2)  # gunicorn starts another worker; the traffic goes on
    assert at_risk > 0, "the killed worker had no spooled row: the test proved nothing"
    assert len(traffic.ids) > 100 and victim not in workers(served.master)
    assert settled(served, traffic.ids) == len(traffic.ids)  # every answered prediction, the victim's too
    assert not list(served.spool.glob(f"*-{victim}-*.spool"))  # its files adopted and written


def test_a_locked_database_delays_the_log_and_loses_nothing(served: Served) -> None:
    assert drained(served.spool)  # what came before is in the database
    before = rows_in_log(served.database)
    lock = sqlite3.connect(served.database, timeout=30, isolation_level=None)
    with Traffic(served) as traffic:
        lock.execute("BEGIN EXCLUSIVE")  # no one else reads or writes the database now
        locked, first = time.monotonic(), len(traffic.ids)
        time.sleep(3)
        waiting = traffic.ids[-1]  # answered while the database is locked
        with pytest.raises(urllib.error.HTTPError) as refused:  # its truth cannot be recorded yet: later
            feedback(served, waiting)
        assert refused.value.code == 503 and int(refused.value.headers["Retry-After"]) > 0
        time.sleep(max(0.0, LOCK_SECONDS - (time.monotonic() - locked)))
        during = len(traffic.ids) - first
        lock.execute("ROLLBACK")
        lock.close()
        time.sleep(1)
    assert traffic.failed == 0 and during > 200  # the answers never waited for the database
    assert settled(served, traffic.ids) == len(traffic.ids) and drained(served.spool)
    assert rows_in_log(served.database) - before == len(traffic.ids)  # each exactly once
    assert feedback(served, waiting) == {"recorded": 1}
