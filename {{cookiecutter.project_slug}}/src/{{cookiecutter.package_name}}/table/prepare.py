"""The table kind's prepare: load the table (or image folder), validate, profile and split it."""

from typing import Any

import pandas as pd
from sklearn.model_selection import train_test_split

from ..atomic import write_json
from ..data.dtypes import compact
from ..data.image_folders import image_folder, read_image_folder
from ..data.images import image_spec
from ..data.load import load_dataset
from ..data.prepared import check_tracked, write_parquet
from ..data.reference import training_reference
from ..errors import DataError
from ..paths import PROFILE_PATH, REFERENCE_PATH, TEST_PATH, TRAIN_PATH
from .profile import profile
from .task import infer_task

LIBRARIES = ("scikit-learn", "pandas", "numpy", "joblib", "skl2onnx", "onnx", "onnxruntime")


def split(
    frame: pd.DataFrame, target: str, test_size: float, seed: int, task: str = "auto"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split rows into train and test, stratified by class when the task (train.task) is classification."""
    labels = frame[target]
    stratify = labels if infer_task(labels, task) == "classification" else None
    if stratify is not None and (rare := labels.value_counts()).min() < 2:
        label = rare.idxmin()
        label = label.item() if hasattr(label, "item") else label  # 9, not np.int64(9)
        raise DataError(f"target class {label!r} has a single row: each class needs at least 2 to split")
    try:
        return train_test_split(frame, test_size=test_size, random_state=seed, stratify=stratify)
    except ValueError as exc:
        raise DataError(f"cannot split {len(frame)} rows with prepare.split={test_size}: {exc}") from None


def prepare(params: dict[str, Any]) -> None:
    """Load the table (or image folder), profile it, split it, and keep the training reference the monitor reads."""
    data, target, task = params["data"], params["data"]["target"], (params.get("train") or {}).get("task", "auto")
    text = tuple(data.get("text") or ())
    if data.get("images"):  # a folder of one subfolder per class: pixels, already float32
        check_tracked(data["images"], key="images")
        spec = image_spec(params["prepare"])
        frame, image = read_image_folder(image_folder(data), spec, target), spec.feature()
    else:
        check_tracked(data.get("path"))
        frame, image = compact(load_dataset(data), target, params["prepare"].get("float32", True), text), None
    data_profile = profile(frame, target, task, image, text)
    train, test = split(frame, target, params["prepare"]["split"], params["prepare"]["seed"], task)
    reference = training_reference(train, test, target, image, text)  # what the served data is compared with
    features = frame.shape[1] - 1
    del frame  # the split holds copies: free the whole table before writing them
    write_parquet(train, TRAIN_PATH)
    write_parquet(test, TEST_PATH)
    write_json(PROFILE_PATH, data_profile)
    write_json(REFERENCE_PATH, reference)
    print(f"prepare: {len(train)} train and {len(test)} test rows, {features} features")
