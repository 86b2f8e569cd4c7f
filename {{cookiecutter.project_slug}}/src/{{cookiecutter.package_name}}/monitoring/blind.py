"""Why a monitor run saw too little to judge: the causes the log (and the server, when asked) can tell apart.

"Too few rows" alone sends the ops colleague looking in every direction. The log's own state
names most causes: empty (the log was never on), nothing new since a time (the server is down,
has no traffic, or its log was switched off), rows of other versions only (the wrong model
judged), rows deleted by retention, rows lost on their way to the database. Asking the server
(`--server`) tells a server that is down from one whose log is off.
"""

from dataclasses import dataclass
from datetime import datetime

from ..formatting import counted

NEVER_ON = "the server's log was never on (SERVING_PREDICTION_LOG), or it never answered"
RETENTION = "SERVING_PREDICTION_LOG_MAX_ROWS, _MAX_AGE_DAYS"
IDLE = "has had no traffic, or its log is off"


@dataclass(frozen=True)
class ServerState:
    """What the server said of itself (GET /api/model): reachable, and its prediction log on or off."""

    url: str
    error: str | None = None  # why it did not answer, or None
    log_on: bool | None = None
    sha256: str | None = None  # the model it serves


@dataclass(frozen=True)
class LogFacts:
    """What the prediction log holds around a window, for the judged model and for all."""

    rows: int  # every row of the log, any model
    newest: datetime | None  # the newest row of any model
    window_rows: int  # the judged model's rows in the window
    other_rows: int  # other models' rows in the window
    start: datetime | None  # the window's start (None for --last N)
    cut_by_retention: bool
    dropped: int  # rows the servers counted as lost before the database, in the window
    server: ServerState | None = None


def blind_cause(facts: LogFacts, min_rows: int) -> str:
    """The most likely reason a window held fewer than `min_rows` rows of the judged model, in one phrase."""
    server = facts.server
    if server and server.error:
        return f"the server at {server.url} did not answer ({server.error}): it is down or unreachable"
    if server and server.log_on is False:
        return "the server's prediction log is off: set SERVING_PREDICTION_LOG=on where it runs"
    if facts.rows == 0:
        return f"the prediction log is empty: {NEVER_ON}"
    if facts.cut_by_retention:
        return f"the log's retention had deleted the window's older rows ({RETENTION})"
    if facts.window_rows == 0 and facts.other_rows:
        others = counted(facts.other_rows, "row")
        return f"the window holds only {others} of other model versions: choose one with --version"
    if facts.start and facts.newest and facts.newest < facts.start:
        idle = "the server has had no traffic" if server else f"the server is down, {IDLE}"
        return f"no prediction logged since {facts.newest:%Y-%m-%d %H:%M %Z}: {idle}"
    return f"only {counted(facts.window_rows, 'row')} of at least {min_rows}: too little traffic in the window"


def lost_rows(facts: LogFacts) -> str:
    """Answered rows the servers could not log in the window, in a few words ("" for none): every verdict says so."""
    return f"{counted(facts.dropped, 'answered row')} never reached the log (a full spool)" if facts.dropped else ""


def blind_line(facts: LogFacts, min_rows: int) -> str:
    """The monitor's line for a blind run: its cause, and rows lost on the way, which make any window thinner."""
    lost = f"; {lost_rows(facts)}" if facts.dropped else ""
    return f"blind: {blind_cause(facts, min_rows)}{lost}"
