"""Tables that fit in memory: tight column dtypes, and Parquet reads without a second copy."""

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq


def compact(frame: pd.DataFrame, keep: str, float32: bool = True) -> pd.DataFrame:
    """Return `frame` with each column except `keep` (the target) in the smallest dtype that holds it.

    Integers shrink losslessly; text becomes a category (one small code per row); decimals become
    float32 when `float32` (prepare.float32), the precision scikit-learn's trees compute in anyway.
    """
    columns = {}
    for name, column in frame.items():
        if name == keep or isinstance(column.dtype, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(column):
            continue
        if pd.api.types.is_integer_dtype(column):
            columns[name] = pd.to_numeric(column, downcast="integer")
        elif pd.api.types.is_float_dtype(column):
            if float32 and column.dtype.itemsize > 4:
                columns[name] = column.astype("float32")
        elif pd.api.types.is_object_dtype(column) or pd.api.types.is_string_dtype(column):
            columns[name] = column.astype("category")
    return frame.assign(**columns) if columns else frame


def read_parquet(path: Path) -> pd.DataFrame:
    """Read a Parquet file, freeing Arrow's buffers as pandas takes each column over: one copy stays, not two."""
    frame = pq.read_table(path).to_pandas(self_destruct=True, split_blocks=True)
    pa.default_memory_pool().release_unused()  # hand the decoding buffers back to the system
    return frame
