"""Stage prepare: load and validate the raw data, split it into train and test, profile it."""

from pathlib import Path

import pandas as pd
import yaml
from sklearn.model_selection import train_test_split

from .atomic import atomic_path, write_json
from .data.annotations import prepare_entities
from .data.dtypes import compact
from .data.images import image_folder, image_spec, read_image_folder
from .data.interactions import prepare_interactions
from .data.load import load_dataset
from .data.profile import profile
from .data.reference import training_reference
from .data.task import infer_task, recommends, tags_entities
from .errors import DataError, PipelineError, run_main
from .params import load_params
from .paths import DVC_FILE, ITEMS_PATH, PROFILE_PATH, REFERENCE_PATH, TEST_PATH, TRAIN_PATH

# The params.yaml sections this stage reads (and train.task, which decides whether to stratify).
SECTIONS = ("data", "prepare")


def check_tracked(data_path: str | None, dvc_file: Path = DVC_FILE, key: str = "path") -> None:
    """Refuse data.path (or data.images) when not a dependency of this stage: `dvc repro` would miss its changes."""
    if not data_path or not Path(data_path).exists() or not dvc_file.is_file():
        return  # no data to track (loading names a missing one), or no pipeline file to check
    stage = ((yaml.safe_load(dvc_file.read_text()) or {}).get("stages") or {}).get("prepare")
    if not stage:
        return
    deps = [dep for dep in stage.get("deps") or [] if isinstance(dep, str)]
    path, placeholder = Path(data_path).resolve(), "${" + f"data.{key}" + "}"  # as dvc.yaml writes it
    if placeholder in deps or any(path.is_relative_to((dvc_file.parent / dep).resolve()) for dep in deps):
        return
    raise PipelineError(
        f"data.{key} {data_path} is not a dependency of the prepare stage, so dvc repro would not see it change: "
        f"add '- {placeholder}' to stages.prepare.deps in dvc.yaml"
    )


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


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    """Write a frame to Parquet atomically; the index only when it is named (an image table's files)."""
    with atomic_path(path) as tmp:
        frame.to_parquet(tmp, index=frame.index.name is not None, engine="pyarrow")


def main() -> None:
    """Validate everything first: nothing is written unless the data is usable."""
    params = load_params(sections=SECTIONS)
    if recommends(params):  # interactions to rank items from, not rows with a target
        check_tracked(params["data"].get("path"))
        check_tracked(params["data"].get("items"), key="items")
        train, test, items, data_profile = prepare_interactions(params["data"], params["prepare"])
        write_parquet(train, TRAIN_PATH)
        write_parquet(test, TEST_PATH)
        write_parquet(items, ITEMS_PATH)
        write_json(PROFILE_PATH, data_profile)
        print(f"prepare: {len(train)} train and {len(test)} held-out interactions of {data_profile['users']} users")
        return
    if tags_entities(params):  # annotated texts to tag, not rows with a target
        check_tracked(params["data"]["entities"], key="entities")
        train, test, data_profile = prepare_entities(params["data"], params["prepare"])
        write_parquet(train, TRAIN_PATH)
        write_parquet(test, TEST_PATH)
        write_json(PROFILE_PATH, data_profile)
        print(f"prepare: {len(train)} train and {len(test)} held-out texts, entities {data_profile['entities']}")
        return
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


if __name__ == "__main__":
    run_main(main)
