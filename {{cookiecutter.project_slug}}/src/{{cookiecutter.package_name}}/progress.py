"""Progress of long steps: a live bar on a terminal, a plain line now and then in a CI log."""

import os
import sys
from collections.abc import Iterator
from typing import Any

import pandas as pd
from tqdm import tqdm

from .errors import PipelineError

# Seconds between progress lines when stderr is not a terminal (a CI log); PROGRESS_SECONDS overrides.
LOG_INTERVAL = 30.0
# A step quicker than this prints no progress at all; in a log, a longer one prints a line every
# interval and a last one when it ends.
QUIET_SECONDS = 2.0
# Rows encoded or predicted at a time: bounds the memory of each transform or predict call.
CHUNK_ROWS = 100_000
LOG_FORMAT = "{desc}: {n_fmt}/{total_fmt}{unit} ({percentage:.0f}%), {rate_fmt}, {remaining} left{postfix}"


class LogProgress(tqdm):
    """tqdm for a log: each refresh is one new plain line, never a carriage-return redraw."""

    def display(self, msg: str | None = None, pos: int | None = None) -> bool:
        """Print the current state on its own line, once per count reached (not the empty start)."""
        if msg is None and self.n and self.n != getattr(self, "printed_n", None):
            self.printed_n = self.n
            print(self, file=sys.stderr, flush=True)
        return True


class Silent:
    """A stream that drops what tqdm writes itself (its closing newline): LogProgress prints its lines."""

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


def log_interval() -> float:
    """PROGRESS_SECONDS, or LOG_INTERVAL when it is not set."""
    value = os.environ.get("PROGRESS_SECONDS", str(LOG_INTERVAL))
    try:
        return float(value)
    except ValueError:
        raise PipelineError(f"PROGRESS_SECONDS must be a number of seconds, not {value!r}") from None


def progress(total: int, desc: str, unit: str = "rows") -> tqdm:
    """A progress bar over `total` units that shows how many are done, the rate and the time left."""
    interval = log_interval()
    common: dict[str, Any] = {"total": total, "desc": desc, "unit": f" {unit}", "unit_scale": True}
    if sys.stderr.isatty():
        return tqdm(**common, delay=QUIET_SECONDS, file=sys.stderr)
    return LogProgress(
        **common,
        delay=min(QUIET_SECONDS, interval),
        mininterval=interval,
        maxinterval=interval,
        miniters=1,
        file=Silent(),
        bar_format=LOG_FORMAT,
    )


def chunks(frame: pd.DataFrame, desc: str, rows: int | None = None) -> Iterator[tuple[int, pd.DataFrame]]:
    """(start, rows) of `frame`, `rows` (default CHUNK_ROWS) at a time, with a progress bar over the whole table."""
    rows = rows or CHUNK_ROWS
    with progress(len(frame), desc) as bar:
        for start in range(0, len(frame), rows):
            chunk = frame.iloc[start : start + rows]
            yield start, chunk
            bar.update(len(chunk))
