"""The table kind: classification and regression on numbers, categories, dates, text and images.

One scikit-learn pipeline: features/ encodes, modeling/ fits, searches, scores and exports it to
ONNX; prepare.py, train.py and evaluate.py do the stages' work; runtime.py and router.py serve it;
batch.py scores files; pages.py draws its site pages; example.py labels the example app's records.
"""

from typing import Any

from ..params import FREE

TASKS = ("classification", "regression")
MODELS = ("random_forest", "gradient_boosting", "hist_gradient_boosting", "linear", "svm")
MONITORED = True  # served features and answers to compare with training: `manage.py monitor` judges them
# The params.yaml keys this kind reads, beside the shared ones (params.py); FREE: checked by modeling/search.py.
CLAIMS: dict[str, Any] = {
    "data": dict.fromkeys(("dataset", "target", "categorical", "text", "drop", "images")),
    "prepare": dict.fromkeys(("split", "float32", "image_size", "color")),
    "train": {
        "backend": None,
        "search": {**dict.fromkeys(("method", "cv", "iterations", "scoring")), "space": FREE},
        "dask": dict.fromkeys(("scheduler", "workers", "timeout")),
    },
}


def claims(params: dict[str, Any]) -> bool:
    """Rows with a target: any train.task of this kind, or auto (asked after the other kinds)."""
    return (params.get("train") or {}).get("task", "auto") in ("auto", *TASKS)
