"""Stage train: fit the feature pipeline and the estimator, then save the model with its manifest."""

import hashlib
import platform
import time
from importlib.metadata import version
from typing import Any

import pandas as pd
from sklearn.pipeline import Pipeline

from .data.dtypes import read_parquet, release_unused
from .data.images import image_spec
from .data.reference import served_ranges
from .data.schema import Feature, feature_schema, image_feature, split_xy
from .data.task import infer_task, recommends, tags_entities
from .errors import PipelineError, run_main
from .features.native import NATIVE_MODEL, encode_up_front, native_categorical_mask, observed_categories
from .features.preprocessor import build_preprocessor
from .modeling.bounds import numeric_bounds
from .modeling.estimators import UNSCALED, build_estimator, parameter_names, tuned_part
from .modeling.export import export_onnx, summary
from .modeling.metrics import cv_metrics, score
from .modeling.parallel import fit_parallel
from .modeling.predict import predict_table
from .modeling.recommending import train_recommender
from .modeling.search import best_model, search_summary, with_search
from .modeling.tagging import train_entities
from .params import load_params, model_hyperparams
from .paths import MODEL_PATH, TEST_PATH, TRAIN_PATH
from .registry.artifacts import save_model
from .registry.git import git

LIBRARIES = ("scikit-learn", "pandas", "numpy", "joblib", "skl2onnx", "onnx", "onnxruntime")


def data_hash(frame: pd.DataFrame) -> str:
    """A SHA-256 of the training rows' content, independent of the file format."""
    return hashlib.sha256(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes()).hexdigest()


def git_commit() -> str | None:
    """The commit the code was trained from, or None outside a git repository."""
    result = git("rev-parse", "HEAD", check=False)
    return result.stdout.strip() if result.returncode == 0 else None


def to_json_value(value: Any) -> Any:
    """A class label as a plain JSON value (numpy scalars become Python ones)."""
    return value.item() if hasattr(value, "item") else value


def native_encoding(model: str, schema: list[Feature]) -> bool:
    """Whether histogram boosting encodes categories itself (features/native.py): tables only, not pixels."""
    return model == NATIVE_MODEL and image_feature(schema) is None


def build_pipeline(
    train_params: dict[str, Any], task: str, schema: list[Feature], categories: list[list[Any]] | None = None
) -> Pipeline:
    """The feature encoder and the estimator `train.model` names, as one scikit-learn Pipeline."""
    hyperparams = model_hyperparams(train_params)
    estimator = build_estimator(train_params["model"], task, hyperparams, train_params["seed"])
    native = native_encoding(train_params["model"], schema)
    if native and (text := [f["name"] for f in schema if f["kind"] == "text"]):
        raise PipelineError(
            f"train.model {NATIVE_MODEL} cannot learn from text columns ({', '.join(text)} in data.text): "
            "set train.model: linear, the recommended model for text"
        )
    if native and "categorical_features" not in hyperparams:
        searched = ((train_params.get("search") or {}).get("space") or {}).get("max_bins") or []
        max_levels = min([estimator.get_params()["max_bins"], *searched])  # every candidate must accept it
        mask = native_categorical_mask(schema, max_levels)
        estimator.set_params(categorical_features=mask if any(mask) else None)
    scale = train_params["model"] not in UNSCALED
    encoder = build_preprocessor(schema, native=native, categories=categories, scale=scale)
    return Pipeline([("features", encoder), ("estimator", estimator)])


def main() -> None:
    """Fit on the train split, score on the test split, save model and manifest together."""
    params = load_params(estimator_params=parameter_names)
    if recommends(params):  # interactions, not a table: modeling/recommending.py
        return train_recommender(params, git_commit(), data_hash(read_parquet(TRAIN_PATH)))
    if tags_entities(params):  # annotated texts: modeling/tagging.py
        return train_entities(params, git_commit(), data_hash(read_parquet(TRAIN_PATH)))
    target, train_params = params["data"]["target"], params["train"]
    frame = read_parquet(TRAIN_PATH)
    rows, train_hash = len(frame), data_hash(frame)
    features, labels = split_xy(frame, target)
    width = features.shape[1]  # the input columns: features, or an image's pixels
    del frame  # from here on only the features and labels stay in memory
    task = infer_task(labels, train_params.get("task", "auto"))
    if params["data"].get("images"):  # an image's pixels are one feature
        schema = [image_spec(params["prepare"]).feature()]
    else:
        schema = feature_schema(features, tuple(params["data"].get("text") or ()))
    seen = served_ranges(features, labels, schema, task)  # what serving counts as outside training
    native = native_encoding(train_params["model"], schema)
    pipeline = build_pipeline(train_params, task, schema, observed_categories(features, schema) if native else None)
    encoder = None
    if native:  # encode the table once and free it, then fit on the matrix
        features, encoder = encode_up_front(pipeline, features, schema)
        release_unused()  # the table is gone: give its memory back before boosting takes more
    fitted = with_search(pipeline, train_params.get("search"), train_params["seed"])
    estimator = type(tuned_part(pipeline[-1])[0]).__name__
    print(f"train: fitting {estimator} on {rows:,} rows x {width:,} features", flush=True)
    started = time.perf_counter()
    backend = fit_parallel(fitted, features, labels, train_params)
    seconds = time.perf_counter() - started
    del features, labels  # the test split comes next: hold one table at a time
    model, search = best_model(fitted), search_summary(fitted)
    if encoder is not None:
        model.set_params(features=encoder)

    test_features, test_labels = split_xy(read_parquet(TEST_PATH), target)
    predictions = predict_table(model, test_features, "train: score")
    manifest = {
        "task": task,
        "target": target,
        "classes": [to_json_value(c) for c in model.classes_] if task == "classification" else None,
        "features": numeric_bounds(model, schema, test_features),  # numbers bounded to what it computes
        "estimator": estimator,
        "params": {"train": train_params, "prepare": params["prepare"]},
        "metrics": score(task, test_labels, predictions) | cv_metrics(search),
        "search": search,
        "data": {"train_rows": rows, "sha256": train_hash, **seen},
        "versions": {"python": platform.python_version(), **{lib: version(lib) for lib in LIBRARIES}},
        "git_commit": git_commit(),
    }
    onnx, manifest["onnx"] = export_onnx(model, schema, test_features)  # checked on the held-out rows
    print(summary(manifest["onnx"]), flush=True)
    saved = save_model(model, manifest, MODEL_PATH, onnx)
    print(f"train: fitted in {seconds:.1f} s ({rows / seconds:,.0f} rows/s, {backend}); sha256 {saved['sha256'][:12]}")


if __name__ == "__main__":
    run_main(main)
