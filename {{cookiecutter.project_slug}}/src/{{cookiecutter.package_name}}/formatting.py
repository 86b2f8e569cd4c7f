"""Small shared formats: rounded numbers, Markdown tables, short hashes and times, "did you mean" hints, plot rows."""

import difflib
import html
import math
import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

# Rows of plot data as DVC and the report read them: [{"fpr": 0.0, "tpr": 0.1}, ...].
Rows = list[dict[str, Any]]
EXCERPT_CHARS = 160
MARKUP = re.compile(r"([\\`*_\[\]|])")  # Markdown's inline markup characters, escaped with a backslash
DECIMALS = 6  # metrics, statistics and plot points: stable across reruns, so git diffs stay quiet


def rounded(value: Any) -> float | None:
    """A JSON-friendly float rounded to DECIMALS places; None for a missing value."""
    try:
        number = float(value)
    except TypeError:  # None, or pandas' NA and NaT
        return None
    return None if math.isnan(number) else round(number, DECIMALS)


def cell(value: Any, missing: str = "") -> str:
    """A value as Markdown-table-safe text: floats to 6 significant digits, None as `missing`."""
    if value is None:
        return missing
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def table(headers: list[str], rows: list[list[Any]]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def short(digest: str | None) -> str:
    """The first 12 characters of a hash, as code."""
    return f"`{digest[:12]}`" if digest else ""


def when(moment: str | None) -> str:
    """An ISO 8601 time as 2026-12-06 23:30 UTC."""
    if not moment:
        return ""
    parsed = datetime.fromisoformat(moment)
    return f"{parsed:%Y-%m-%d %H:%M} {parsed.tzname() or ''}".strip()


def counted(number: int, noun: str) -> str:
    """A count and its noun: '1 missing value', '2 missing values'."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


def closest(word: str, choices: Iterable[str], cutoff: float = 0.6) -> str | None:
    """The choice spelled most like `word`, upper or lower case aside ('c' is close to 'C'), or None."""
    by_lower = {choice.lower(): choice for choice in choices}
    found = difflib.get_close_matches(word.lower(), list(by_lower), n=1, cutoff=cutoff)
    return by_lower[found[0]] if found else None


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """The hint ` (did you mean 'n_estimators'?)` for the closest choice, or nothing."""
    match = closest(word, choices)
    return f" (did you mean {match!r}?)" if match else ""


def excerpt(text: str) -> str:
    """A text as one line of a Markdown table, shown as written: cut at EXCERPT_CHARS, its markup escaped."""
    text = " ".join(text.split())
    text = text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS].rsplit(" ", 1)[0] + " …"
    return MARKUP.sub(r"\\\1", html.escape(text, quote=False))  # <tag> as text; `code`, *emphasis*, | as text
