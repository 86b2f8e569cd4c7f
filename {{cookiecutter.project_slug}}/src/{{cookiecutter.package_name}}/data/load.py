"""Load the raw data (a bundled scikit-learn set or a CSV/Parquet file), validated and typed."""

from pathlib import Path
from typing import Any, BinaryIO

import pandas as pd

from ..errors import DataError
from ..progress import progress
from .dates import as_dates
from .dtypes import read_parquet
from .validate import separator_hint, validate

# The loaders in sklearn.datasets, by data.dataset; imported when used, as predict_file (this module's
# read_table) must not import scikit-learn under the ONNX runtime.
BUNDLED = {
    "breast_cancer": "load_breast_cancer",
    "wine": "load_wine",
    "diabetes": "load_diabetes",
}
PARQUET_SUFFIXES = {".parquet", ".pq"}
COMPRESSION = {".gz": "gzip", ".bz2": "bz2", ".zip": "zip", ".xz": "xz", ".zst": "zstd"}
CSV_EXAMPLES = {"sep": '",", ";" or "\\t" (a tab)', "decimal": '"." or ","'}


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
    categorical, text = data_params.get("categorical") or [], data_params.get("text") or []
    frame = drop_columns(frame, data_params.get("drop") or [], data_params["target"], csv)
    frame = as_dates(frame, [data_params["target"], *categorical, *text])
    validate(frame, data_params["target"], categorical, csv, text)
    return as_text(as_categories(frame, categorical), text)


def drop_columns(frame: pd.DataFrame, drop: list[str], target: str, csv: dict[str, str] | None = None) -> pd.DataFrame:
    """Leave out the columns data.drop names (IDs, names, leaks); refuse a name the data does not have."""
    unknown = [str(name) for name in drop if name not in frame.columns]
    if unknown:
        columns = ", ".join(map(str, frame.columns))
        hint = separator_hint(frame.columns, csv["sep"]) if csv else ""
        raise DataError(
            f"data.drop names columns that do not exist: {', '.join(unknown)}; columns are: {columns}{hint}"
        )
    if target in drop:
        raise DataError(f"data.drop names the target column {target!r}: set data.target to another column")
    return frame.drop(columns=drop)


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
    from sklearn import datasets

    bunch = getattr(datasets, BUNDLED[name])(as_frame=True)
    labels = bunch.target
    if "target_names" in bunch:  # classification sets: name the classes ("benign"), not their codes
        labels = labels.map(dict(enumerate(bunch.target_names))).astype(object)
    return bunch.data.assign(**{target: labels})


def read_table(path: Path, csv: dict[str, str] | None = None, sep_option: str = "data.sep") -> pd.DataFrame:
    """Read a CSV (with `csv`, csv_options) or Parquet file; every way it can be unreadable is one DataError.

    `sep_option` is what a reader sets to change the separator, named in the hint of a one-column CSV.
    """
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
        hint = "" if parquet else separator_hint(csv_header(path, csv), csv["sep"], sep_option)
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


def as_text(frame: pd.DataFrame, text: list[str]) -> pd.DataFrame:
    """Store the data.text columns as strings, a missing text as the empty string."""
    if not text:
        return frame
    # as objects first: a categorical column (from Parquet) has no "" category to fill with
    return frame.assign(**{name: frame[name].astype(object).fillna("").astype(str).astype(object) for name in text})


def as_categories(frame: pd.DataFrame, categorical: list[str]) -> pd.DataFrame:
    """Store the declared categorical columns as text, so every stage treats them as categories."""
    if not categorical:
        return frame
    converted = {name: frame[name].map(str, na_action="ignore").astype(object) for name in categorical}
    return frame.assign(**converted)
