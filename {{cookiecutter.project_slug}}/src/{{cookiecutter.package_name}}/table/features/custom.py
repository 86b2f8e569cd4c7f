"""Your own features: the one place to add them (the template's how-to "Add your own features" shows how).

Each entry names a new numeric column and computes it from the input rows (a DataFrame with the raw
feature columns, dates as datetimes in UTC, also when the API sends them as text). Every model sees
it beside the encoded inputs: imputed and scaled like any number for linear models and SVMs,
imputed for forests and gradient boosting, passed as it is to histogram boosting. Requests to the
API send the raw features only: the pipeline computes yours, in training and in serving alike. The
saved model keeps only the names and calls the functions here when it predicts: after changing one,
retrain (`dvc repro` does, as this folder is a dependency of the train stage). ONNX cannot run
them: such a model has no models/model.onnx (modeling/export.py), and serving uses the pickle.
"""

from collections.abc import Callable

import pandas as pd

OWN_FEATURES: dict[str, Callable[[pd.DataFrame], pd.Series]] = {
    # "income_per_person": income_per_person,
}
