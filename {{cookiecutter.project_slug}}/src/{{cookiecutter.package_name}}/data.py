"""Load the raw data (a bundled scikit-learn set or a CSV/Parquet file) and validate it."""

import json
from pathlib import Path
from typing import Any, BinaryIO

import pandas as pd
from sklearn import datasets

from .dtypes import read_parquet
from .errors import DataError
from .progress import progress

BUNDLED = {
    "breast_cancer": datasets.load_breast_cancer,
    "wine": datasets.load_wine,
    "diabetes": datasets.load_diabetes,
}
PARQUET_SUFFIXES = {".parquet", ".pq"}
COMPRESSION = {".gz": "gzip", ".bz2": "bz2", ".zip": "zip", ".xz": "xz", ".zst": "zstd"}
# Column separators a CSV's header may show when data.sep is another one.
SEPARATORS = (";", "\t", "|", ",")
CSV_EXAMPLES = {"sep": '",", ";" or "\\t" (a tab)', "decimal": '"." or ","'}
# A text column is "numeric with junk" when at least this share of its values are numbers.
NUMERIC_SHARE = 0.9
# A text column with more than this share of distinct values, over at least NEAR_UNIQUE_ROWS rows,
# is an ID, a name or free text: one-hot encoded it would make a column per row.
NEAR_UNIQUE_SHARE = 0.5
NEAR_UNIQUE_ROWS = 50
# ISO 8601: a date, or a date and time (seconds and fraction optional), with an optional zone (Z, +01:00).
ISO_DATE = r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"


def load_dataset(data_params: dict[str, Any]) -> pd.DataFrame:
    """Return the raw data named by params.yaml's `data` section, validated."""
    csv = None
    if data_params.get("path"):
        path = Path(data_params["path"])
        if path.suffix.lower() not in PARQUET_SUFFIXES:
            csv = csv_options(data_params.get("sep", ","), data_params.get("decimal", "."))
        frame = read_table(path, csv)
    else:
        frame = load_bundled(data_params.get("dataset"), data_params["target"])
    categorical = data_params.get("categorical") or []
    frame = drop_columns(frame, data_params.get("drop") or [], data_params["target"])
    frame = as_dates(frame, [data_params["target"], *categorical])
    validate(frame, data_params["target"], categorical, csv)
    return as_categories(frame, categorical)


def drop_columns(frame: pd.DataFrame, drop: list[str], target: str) -> pd.DataFrame:
    """Leave out the columns data.drop names (IDs, names, leaks); refuse a name the data does not have."""
    unknown = [str(name) for name in drop if name not in frame.columns]
    if unknown:
        columns = ", ".join(map(str, frame.columns))
        raise DataError(f"data.drop names columns that do not exist: {', '.join(unknown)}; columns are: {columns}")
    if target in drop:
        raise DataError(f"data.drop names the target column {target!r}: set data.target to another column")
    return frame.drop(columns=drop)


def as_dates(frame: pd.DataFrame, skip: list[str]) -> pd.DataFrame:
    """Parse each text column whose every value is an ISO 8601 date or date-time (UTC, zone dropped)."""
    converted = {}
    for name, column in frame.items():
        if name in skip or not (pd.api.types.is_object_dtype(column) or pd.api.types.is_string_dtype(column)):
            continue
        values = column.dropna().unique()
        text = pd.Series(values, dtype=object)
        if len(values) == 0 or not text.map(lambda v: isinstance(v, str)).all():
            continue
        if text.str.fullmatch(ISO_DATE).all():
            converted[name] = parse_dates(column)
    return frame.assign(**converted) if converted else frame


def parse_dates(column: pd.Series) -> pd.Series:
    """ISO 8601 text as naive UTC datetimes: one DataError naming the first value that is no real date."""
    try:
        return pd.to_datetime(column, format="ISO8601", utc=True).dt.tz_localize(None)
    except (ValueError, OverflowError) as exc:
        reason = str(exc).splitlines()[0]
        raise DataError(
            f"column {column.name!r} holds ISO 8601 dates, but not every one is a real date ({reason}); "
            "fix it or list the column in data.categorical"
        ) from None


def csv_options(sep: Any = ",", decimal: Any = ".", prefix: str = "data.") -> dict[str, str]:
    """pandas' `sep` and `decimal` for reading a CSV, checked: one character each, and not the same one."""
    options = {"sep": sep, "decimal": decimal}
    for name, value in options.items():
        if not isinstance(value, str) or len(value) != 1:
            raise DataError(f"{prefix}{name} must be one character, such as {CSV_EXAMPLES[name]}, not {value!r}")
    if sep == decimal:
        raise DataError(f"{prefix}sep and {prefix}decimal are both {sep!r}: a number's decimal mark would split it")
    return options


def load_bundled(name: str | None, target: str) -> pd.DataFrame:
    """Return a data set that ships with scikit-learn, the target in column `target`."""
    if name not in BUNDLED:
        raise DataError(f"data.dataset {name!r} is not one of {', '.join(BUNDLED)}; or set data.path to a file")
    bunch = BUNDLED[name](as_frame=True)
    labels = bunch.target
    if "target_names" in bunch:  # classification sets: name the classes ("benign"), not their codes
        labels = labels.map(dict(enumerate(bunch.target_names))).astype(object)
    return bunch.data.assign(**{target: labels})


def read_table(path: Path, csv: dict[str, str] | None = None) -> pd.DataFrame:
    """Read a CSV (with `csv`, csv_options) or Parquet file; every way it can be unreadable is one DataError."""
    if not path.is_file():
        raise DataError(f"data file not found: {path} (set data.path in params.yaml)")
    if path.stat().st_size == 0:
        raise DataError(f"data file is empty: {path}")
    parquet, csv = path.suffix.lower() in PARQUET_SUFFIXES, csv or csv_options()
    try:
        return read_parquet(path) if parquet else read_csv(path, csv)
    except pd.errors.EmptyDataError:
        raise DataError(f"data file has no columns: {path}") from None
    except (ValueError, UnicodeDecodeError, OSError) as exc:  # ParserError and pyarrow errors are ValueErrors
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        hint = "" if parquet else separator_hint(csv_header(path, csv), csv["sep"])
        raise DataError(f"cannot parse {path}: {reason}{hint}") from None


def csv_header(path: Path, csv: dict[str, str]) -> pd.Index:
    """The column names in a CSV's header line alone, or none when even that line does not parse."""
    try:
        return pd.read_csv(path, nrows=0, compression=COMPRESSION.get(path.suffix.lower()), **csv).columns
    except (ValueError, UnicodeDecodeError, OSError):
        return pd.Index([])


def read_csv(path: Path, csv: dict[str, str]) -> pd.DataFrame:
    """Read a CSV (compressed or not) in one pass, with progress by bytes read: its row count is unknown."""
    compression = COMPRESSION.get(path.suffix.lower())
    with path.open("rb") as handle, progress(path.stat().st_size, f"prepare: read {path.name}", unit="B") as bar:
        return pd.read_csv(ProgressReader(handle, bar), compression=compression, **csv)


class ProgressReader:
    """A binary file whose reads advance a progress bar."""

    def __init__(self, handle: BinaryIO, bar: Any) -> None:
        self.handle, self.bar = handle, bar

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.bar.update(len(data))
        return data

    def __getattr__(self, name: str) -> Any:  # seek, tell, readable...: the file's own
        return getattr(self.handle, name)


def validate(frame: pd.DataFrame, target: str, categorical: list[str], csv: dict[str, str] | None = None) -> None:
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
        first = first_row(missing)
        raise DataError(f"target column {target!r} has {missing.sum()} missing values (first at data row {first})")
    if frame[target].nunique() < 2:
        only = frame[target].iloc[0]
        raise DataError(f"target column {target!r} has a single value ({only!r}): there is nothing to learn")
    unknown = sorted(set(categorical) - set(frame.columns))
    if unknown:
        raise DataError(f"data.categorical names columns that do not exist: {', '.join(unknown)}")
    for column in frame.columns.drop(target):
        if column not in categorical and not pd.api.types.is_datetime64_any_dtype(frame[column]):
            check_numeric_text(frame[column], csv)
            check_near_unique(frame[column])


def check_near_unique(column: pd.Series) -> None:
    """Refuse a text column whose values are nearly all distinct: an ID, a name or free text, not a category."""
    if pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column) or len(column) < NEAR_UNIQUE_ROWS:
        return
    distinct = column.nunique()
    if distinct > NEAR_UNIQUE_SHARE * len(column):
        raise DataError(
            f"column {column.name!r} is text with {distinct} distinct values in {len(column)} rows "
            "(an ID, a name or free text?): list it in data.drop to leave it out, "
            "or in data.categorical to encode it as a category anyway"
        )


def separator_hint(columns: pd.Index, sep: str) -> str:
    """When a CSV's header is one column holding another separator than `sep`, name the data.sep to set."""
    found = [other for other in SEPARATORS if other != sep and len(columns) == 1 and other in str(columns[0])]
    if not found:
        return ""
    quoted = json.dumps(found[0])  # as YAML reads it: "\t" is a tab
    return f" (one column: the file looks separated by {quoted}: set data.sep: {quoted})"


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
        f"column {column.name!r} is numeric but has {is_junk.sum()} non-numeric values "
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


def as_categories(frame: pd.DataFrame, categorical: list[str]) -> pd.DataFrame:
    """Store the declared categorical columns as text, so every stage treats them as categories."""
    if not categorical:
        return frame
    converted = {name: frame[name].map(str, na_action="ignore").astype(object) for name in categorical}
    return frame.assign(**converted)


def first_row(mask: pd.Series) -> int:
    """The 1-based data row (header excluded) of the first True in `mask`."""
    return int(mask.to_numpy().argmax()) + 1
