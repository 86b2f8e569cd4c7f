"""Tight column dtypes, so that large data fits in memory: small integers, float32, categories for text."""

import pandas as pd


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
