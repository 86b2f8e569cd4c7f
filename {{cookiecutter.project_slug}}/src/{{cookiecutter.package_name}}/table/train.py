"""The table kind's train: fit the pipeline, score it on the test split, save it with its ONNX copy."""

import time
from typing import Any

from ..data.dtypes import read_parquet, release_unused
from ..data.images import image_spec
from ..data.reference import served_ranges
from ..data.schema import feature_schema, split_xy
from ..paths import MODEL_PATH, TEST_PATH, TRAIN_PATH
from ..registry.artifacts import save_model
from ..registry.provenance import data_hash, describe
from .features.native import encode_up_front, observed_categories
from .modeling.bounds import numeric_bounds
from .modeling.estimators import parameter_names, tuned_part

__all__ = ["parameter_names", "train"]  # what kinds.py calls
from .modeling.export import export_onnx, summary
from .modeling.metrics import cv_metrics, score
from .modeling.parallel import fit_parallel
from .modeling.pipeline import build_pipeline, native_encoding
from .modeling.predict import predict_table
from .modeling.search import best_model, search_summary, with_search
from .task import infer_task

LIBRARIES = ("scikit-learn", "pandas", "numpy", "joblib", "skl2onnx", "onnx", "onnxruntime")


def train(params: dict[str, Any]) -> None:
    """Fit the pipeline on the train split, score it on the test split, save it with its ONNX copy."""
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
    manifest = describe(
        params,
        task=task,
        target=target,
        classes=[c.item() if hasattr(c, "item") else c for c in model.classes_] if task == "classification" else None,
        features=numeric_bounds(model, schema, test_features),  # numbers bounded to what it computes
        estimator=estimator,
        metrics=score(task, test_labels, predictions) | cv_metrics(search),
        search=search,
        data={"train_rows": rows, "sha256": train_hash, **seen},
        libraries=LIBRARIES,
    )
    onnx, manifest["onnx"] = export_onnx(model, schema, test_features)  # checked on the held-out rows
    print(summary(manifest["onnx"]), flush=True)
    saved = save_model(model, manifest, MODEL_PATH, (".onnx", onnx))
    print(f"train: fitted in {seconds:.1f} s ({rows / seconds:,.0f} rows/s, {backend}); sha256 {saved['sha256'][:12]}")
