"""Tables that fit in memory: tight column dtypes, and Parquet reads without a second copy."""

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq


def compact(frame: pd.DataFrame, keep: str, float32: bool = True, text: tuple[str, ...] = ()) -> pd.DataFrame:
    """Store each column of `frame` except `keep` (the target) in the smallest dtype that holds it.

    Integers shrink losslessly; text becomes a category (one small code per row), except the free
    text of the `text` columns (data.text), whose values are mostly distinct; float64 columns
    become float32 when `float32` (prepare.float32): about 7 significant digits, the precision
    scikit-learn's trees compute in anyway (integer columns with missing values are floats too).
    Columns are replaced one by one in a shallow copy: the caller's frame is left as it was, and
    the table is never copied whole (DataFrame.assign would copy it with pandas 2).
    """
    frame = frame.copy(deep=False)
    for name, column in list(frame.items()):
        as_is = name == keep or name in text  # the target, and free text
        if as_is or isinstance(column.dtype, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(column):
            continue
        if pd.api.types.is_integer_dtype(column):
            frame[name] = pd.to_numeric(column, downcast="integer")
        elif pd.api.types.is_float_dtype(column):
            if float32 and column.dtype.itemsize > 4:
                frame[name] = column.astype("float32")
        elif pd.api.types.is_object_dtype(column) or pd.api.types.is_string_dtype(column):
            frame[name] = column.astype("category")
    return frame


def read_parquet(path: Path) -> pd.DataFrame:
    """Read a Parquet file, freeing Arrow's buffers as pandas takes each column over: one copy stays, not two."""
    # date_as_object=False: a Parquet date column reads as datetime64, the dtype of a date feature
    frame = pq.read_table(path).to_pandas(self_destruct=True, split_blocks=True, date_as_object=False)
    release_unused()  # hand the decoding buffers back to the system
    return frame


def release_unused() -> None:
    """Return the memory of freed tables to the system: Arrow keeps it pooled (a column may live in Arrow's buffers)."""
    pa.default_memory_pool().release_unused()
