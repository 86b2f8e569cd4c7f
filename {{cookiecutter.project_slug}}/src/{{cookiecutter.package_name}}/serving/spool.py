"""The prediction log's spool: files where each process appends its answered rows before the database has them.

A process holds each of its files with an exclusive lock (flock) for as long as it lives; the kernel
drops the lock when the process dies, even by SIGKILL. So a file nobody holds is an orphan (a killed
worker's, a previous run's), and a live writer adopts it: it takes the lock, then renames the file to
a name of its own. A line is one row as JSON; a line a crash cut short has no newline and is skipped.
"""

import fcntl
import json
import logging
import os
import re
import secrets
import socket
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings

from . import conf

log = logging.getLogger(__name__)

SUFFIX = ".spool"
BLOCK = 4 * 1024 * 1024  # bytes read at a time, one transaction's rows: a spool after an outage can be large
PREDICTION_ID = re.compile(rb'"prediction_id":"([0-9a-f-]{36})"')  # encode() writes each row's id first


@dataclass
class SpoolFile:
    """A spool file this process holds: its lock is on `fd`; `done` bytes of it are in the database."""

    path: Path
    fd: int
    size: int = 0
    done: int = 0
    synced: bool = False


def folder() -> Path:
    """SERVING_PREDICTION_LOG_SPOOL_DIR; unset, var/prediction-log under the site's BASE_DIR (or the temp folder)."""
    if configured := conf.setting("SERVING_PREDICTION_LOG_SPOOL_DIR"):
        return Path(configured)
    base = getattr(settings, "BASE_DIR", None)
    return Path(base) / "var" / "prediction-log" if base else Path(tempfile.gettempdir()) / "prediction-log"


# One encoder for every request: json.dumps with options builds a new one per call, a cost on the predict path.
ENCODER = json.JSONEncoder(separators=(",", ":"), default=str)


def encode(rows: list[dict[str, Any]]) -> bytes:
    """The rows as lines of JSON (each row's prediction_id first, as PREDICTION_ID reads it)."""
    return "".join(ENCODER.encode(row) + "\n" for row in rows).encode()


def new_name(where: Path) -> Path:
    """A name no other file takes: host and pid say whose it is, the random part keeps a reused pid apart."""
    return where / f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(4)}{SUFFIX}"


def create(where: Path) -> SpoolFile:
    """A new, empty spool file of this process, locked before it takes its name (no writer sees it unheld)."""
    where.mkdir(parents=True, exist_ok=True)
    path = new_name(where)
    hidden = path.with_name(f".{path.name}.tmp")
    fd = os.open(hidden, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)  # the rows are users' inputs
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.rename(hidden, path)
    except OSError:
        os.close(fd)
        hidden.unlink(missing_ok=True)
        raise
    return SpoolFile(path, fd)


def append(file: SpoolFile, data: bytes) -> None:
    """Append whole lines in one write, no fsync: once written the kernel has them, and a SIGKILL cannot lose them.

    A write that fails half-way (a full disk) is cut back off, so the next line starts on a line of its own.
    """
    try:
        written = os.write(file.fd, data)
        while written < len(data):
            written += os.write(file.fd, data[written:])
    except OSError:
        os.ftruncate(file.fd, file.size)
        raise
    file.size += len(data)


def orphans(where: Path, held: set[Path]) -> list[SpoolFile]:
    """The files of processes that are gone, now held by this one under names of its own; oldest first."""
    try:
        entries = sorted((e for e in os.scandir(where) if e.name.endswith(SUFFIX)), key=lambda e: e.stat().st_mtime)
    except FileNotFoundError:
        return []
    adopted = []
    for entry in entries:
        if Path(entry.path) in held:
            continue
        try:
            fd = os.open(entry.path, os.O_RDWR)
        except FileNotFoundError:  # written and removed since the listing
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # BlockingIOError: its process is alive
            claimed = new_name(where)
            os.rename(entry.path, claimed)  # FileNotFoundError: another writer adopted it, wrote it, removed it
        except OSError:
            os.close(fd)
            continue
        size = os.fstat(fd).st_size
        adopted.append(SpoolFile(claimed, fd, size=size))
        log.info("prediction log: adopted %s (%d bytes) as %s", entry.name, size, claimed.name)
    return adopted


def batches(file: SpoolFile) -> Iterator[tuple[list[dict[str, Any]], int]]:
    """The rows of `file` after its `done` bytes, a block at a time, each with the offset after it."""
    offset, size = file.done, BLOCK
    while True:
        block = os.pread(file.fd, size, offset)
        end = block.rfind(b"\n") + 1
        if not end:
            if len(block) < size:  # the end: nothing more, or a last line a crash cut short (never answered)
                return
            size *= 2  # one line longer than a block
            continue
        yield [row for line in block[:end].splitlines() if (row := decoded(line, file.path)) is not None], offset + end
        offset += end


def decoded(line: bytes, path: Path) -> dict[str, Any] | None:
    """One spooled row, or None (logged) for a line that is not one."""
    try:
        row = json.loads(line)
    except ValueError:
        log.warning("prediction log: skipped a line of %s that is not JSON: %r", path.name, line[:100])
        return None
    return row if isinstance(row, dict) else None


def sync(file: SpoolFile) -> None:
    """Put the file on the disk (once): rows that wait for the database then outlive the machine's crash too."""
    if not file.synced:
        os.fsync(file.fd)
        file.synced = True


def release(file: SpoolFile) -> None:
    """Remove a file whose rows are all in the database, and let go of it."""
    file.path.unlink(missing_ok=True)
    os.close(file.fd)


def size(where: Path) -> int:
    """The bytes the spool holds, all processes' files together."""
    try:
        return sum(entry.stat().st_size for entry in os.scandir(where) if entry.name.endswith(SUFFIX))
    except FileNotFoundError:
        return 0


def pending(where: Path, ids: set[str]) -> set[str]:
    """Which of these prediction_ids are in a spool file: answered, and not yet in the database."""
    found: set[str] = set()
    try:
        paths = [entry.path for entry in os.scandir(where) if entry.name.endswith(SUFFIX)]
    except FileNotFoundError:
        return found
    for path in paths:
        try:
            with open(path, "rb") as spooled:
                while (block := spooled.read(BLOCK)) and found != ids:
                    block += spooled.readline()  # to the end of the line
                    found |= ids.intersection(match.decode() for match in PREDICTION_ID.findall(block))
        except FileNotFoundError:  # written to the database and removed meanwhile
            continue
    return found
