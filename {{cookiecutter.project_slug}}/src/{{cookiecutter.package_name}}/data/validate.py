"""Check the raw data before anything is written: each problem is one DataError naming the column."""

import json
from typing import Any

import pandas as pd

from ..errors import DataError
from ..formatting import counted

# Column separators a CSV's header may show when data.sep is another one.
SEPARATORS = (";", "\t", "|", ",")
# A text column is "numeric with junk" when at least this share of its values are numbers.
NUMERIC_SHARE = 0.9
# A text column with more than this share of distinct values, over at least NEAR_UNIQUE_ROWS rows,
# is an ID, a name or free text: one-hot encoded it would make a column per row.
NEAR_UNIQUE_SHARE = 0.5
NEAR_UNIQUE_ROWS = 50


def validate(
    frame: pd.DataFrame,
    target: str,
    categorical: list[str],
    csv: dict[str, str] | None = None,
    text: list[str] | None = None,
) -> None:
    """Raise DataError naming the column when the data cannot train a model (`csv`: how a CSV was read)."""
    if frame.empty:
        raise DataError("the data has no rows")
    if target not in frame.columns:
        columns = ", ".join(map(str, frame.columns))
        hint = separator_hint(frame.columns, csv["sep"]) if csv else ""
        raise DataError(f"target column {target!r} not found (set data.target); columns are: {columns}{hint}")
    if len(frame.columns) < 2:
        raise DataError(f"the data has no feature columns besides the target {target!r}")
    missing = frame[target].isna()
    if missing.any():
        count, first = counted(missing.sum(), "missing value"), first_row(missing)
        raise DataError(f"target column {target!r} has {count} (first at data row {first})")
    if frame[target].nunique() < 2:
        only = frame[target].iloc[0]
        raise DataError(f"target column {target!r} has a single value ({only!r}): there is nothing to learn")
    unknown = sorted(set(categorical) - set(frame.columns))
    if unknown:
        raise DataError(f"data.categorical names columns that do not exist: {', '.join(unknown)}")
    check_text(frame, target, categorical, text or [])
    for column in frame.columns.drop([target, *(text or [])]):
        if column not in categorical and not pd.api.types.is_datetime64_any_dtype(frame[column]):
            check_numeric_text(frame[column], csv)
            check_near_unique(frame[column])


def check_text(frame: pd.DataFrame, target: str, categorical: list[str], text: list[str]) -> None:
    """data.text names existing feature columns, none of them also a category."""
    unknown = sorted(set(text) - set(frame.columns))
    if unknown:
        raise DataError(f"data.text names columns that do not exist: {', '.join(map(str, unknown))}")
    if target in text:
        raise DataError(f"data.text names the target column {target!r}: a text feature cannot be the target")
    both = sorted(set(text) & set(categorical))
    if both:
        raise DataError(f"columns listed in both data.text and data.categorical: {', '.join(map(str, both))}")


def check_near_unique(column: pd.Series) -> None:
    """Refuse a text column whose values are nearly all distinct: an ID, a name or free text, not a category."""
    if pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column) or len(column) < NEAR_UNIQUE_ROWS:
        return
    distinct = column.nunique()
    if distinct > NEAR_UNIQUE_SHARE * len(column):
        raise DataError(
            f"column {column.name!r} is text with {distinct} distinct values in {len(column)} rows "
            "(an ID, a name or free text?): list it in data.text to learn from its words, "
            "in data.drop to leave it out, or in data.categorical to encode it as a category anyway"
        )


def separator_hint(columns: pd.Index, sep: str, option: str = "data.sep") -> str:
    """When a CSV's header is one column holding another separator than `sep`, name the `option` to set.

    `option` is params.yaml's data.sep, or predict_file's --sep.
    """
    found = [other for other in SEPARATORS if other != sep and len(columns) == 1 and other in str(columns[0])]
    if not found:
        return ""
    quoted = json.dumps(found[0])  # as YAML reads it: "\t" is a tab
    if option.startswith("--"):  # as a shell reads it: $'\t' is a tab
        return f" (one column: the file looks separated by {quoted}: pass {option} {shell_quoted(found[0])})"
    return f" (one column: the file looks separated by {quoted}: set {option}: {quoted})"


def shell_quoted(separator: str) -> str:
    """A separator as a shell argument: ';' or $'\\t'."""
    return "$'\\t'" if separator == "\t" else f"'{separator}'"


def check_numeric_text(column: pd.Series, csv: dict[str, str] | None = None) -> None:
    """Reject a text column whose values are nearly all numbers: the rest are junk, not categories."""
    if pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
        return
    counts = column.value_counts()  # each distinct value once: fast on millions of rows
    counts = counts[counts > 0]  # a categorical column also lists categories no row uses
    values = counts.index.to_series().astype(str)
    decimal = csv["decimal"] if csv else "."
    # With a decimal comma and junk in the column, pandas leaves its numbers as text ("1,5").
    junk = pd.to_numeric(values.str.replace(decimal, ".", regex=False), errors="coerce").isna().to_numpy()
    if counts.empty or not junk.any():
        return
    if counts[~junk].sum() / counts.sum() < NUMERIC_SHARE:
        if csv and decimal == ".":
            check_comma_numbers(column.name, values, counts, csv["sep"])
        return
    is_junk = column.isin(counts.index[junk])
    example = column[is_junk].iloc[0]
    raise DataError(
        f"column {column.name!r} is numeric but has {counted(is_junk.sum(), 'non-numeric value')} "
        f"(first: {example!r} at data row {first_row(is_junk)}); fix them or list the column in data.categorical"
    )


def check_comma_numbers(name: Any, values: pd.Series, counts: pd.Series, sep: str) -> None:
    """Reject a CSV's numbers written with commas (1,5 or 1,234): taken for categories, they would mislead the model."""
    commas = values.str.contains(",", regex=False).to_numpy()
    numbers = pd.to_numeric(values.str.replace(",", ".", regex=False), errors="coerce").notna().to_numpy()
    if not commas.any() or counts[numbers].sum() / counts.sum() < NUMERIC_SHARE:
        return
    other_sep = ' with another data.sep, such as ";"' if sep == "," else ""
    raise DataError(
        f"column {name!r} holds numbers written with commas (e.g. {values[commas].iloc[0]!r}): for a decimal comma "
        f'set data.decimal: ","{other_sep}; for thousands separators save the file without them; '
        "or list the column in data.categorical"
    )


def first_row(mask: pd.Series) -> int:
    """The 1-based data row (header excluded) of the first True in `mask`."""
    return int(mask.to_numpy().argmax()) + 1
