"""The portable model: the fitted pipeline converted (modeling/conversion.py), checked on held-out rows (train only).

Serving answers from models/model.onnx through onnxruntime only when this check passed. Anything
that cannot convert, or converts but answers differently, falls back to the pickle with a one-line
reason in the manifest: nothing fails.
"""

import contextlib
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from ...registry.manifest import Feature, OnnxCheck, OnnxInput, OnnxOutputs, image_feature
from .conversion import NotConvertible, convert, graph_inputs, one_line, opset_of
from .portable import Row, feed_plan, onnx_feed
from .predict import predict_once

# The largest class-probability difference the check accepts. Measured on every dataset option and model
# (float32 in ONNX, float64 in scikit-learn): at most 7e-7; about ten times that leaves room for larger models.
PROBABILITY_TOLERANCE = 1e-5
# A regression's largest difference, relative to the largest prediction (or 1): measured at most 5e-7.
PREDICTION_TOLERANCE = 1e-5
# The held-out rows checked: enough to exercise every branch of a model, quick to run.
CHECK_ROWS = 2_000
LIBRARIES = ("skl2onnx", "onnx", "onnxruntime")


def library_versions() -> dict[str, str]:
    """The versions of the conversion and runtime libraries (absent ones left out)."""
    found = {}
    for library in LIBRARIES:
        with contextlib.suppress(PackageNotFoundError):
            found[library] = version(library)
    return found


def fallback(reason: str, rows: int = 0, **figures: Any) -> OnnxCheck:
    """The manifest's onnx section when serving must use the pickle."""
    return {
        "status": "fallback",
        "reason": reason,
        "file": None,
        "opset": figures.pop("opset", None),
        "inputs": [],
        "outputs": None,
        "rows_checked": rows,
        "label_agreement": figures.get("label_agreement"),
        "max_probability_difference": figures.get("max_probability_difference"),
        "max_prediction_difference": figures.get("max_prediction_difference"),
        "versions": library_versions(),
    }


def session(onnx: bytes) -> Any:
    """An onnxruntime session on one thread, as serving runs it."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    return onnxruntime.InferenceSession(onnx, options, providers=["CPUExecutionProvider"])


def feature_rows(features: pd.DataFrame, schema: list[Feature]) -> list[Row]:
    """The rows as serving has them: one dict per row, an image's pixels as one vector."""
    if image := image_feature(schema):
        return [{image["name"]: vector} for vector in features.to_numpy(dtype=np.float32)]
    return features[[f["name"] for f in schema]].astype(object).to_dict("records")


def check(
    model: BaseEstimator, runtime: Any, inputs: list[OnnxInput], schema: list[Feature], rows: pd.DataFrame
) -> dict[str, Any]:
    """The figures of the ONNX copy against the pipeline on `rows`, and whether they are within tolerance."""
    outputs = [item.name for item in runtime.get_outputs()]
    expected, probabilities = predict_once(model, rows)
    try:
        answers = runtime.run(None, onnx_feed(feed_plan(inputs, schema), feature_rows(rows, schema)))
    except Exception as exc:  # onnxruntime's errors have no common base class
        raise NotConvertible(f"onnxruntime cannot run it: {one_line(exc)}") from None
    if probabilities is not None:
        onnx_probabilities = np.asarray(answers[1], dtype=np.float64)
        labels = np.asarray(model.classes_)[onnx_probabilities.argmax(axis=1)]  # as predict_once labels
        difference = float(np.abs(onnx_probabilities - probabilities).max())
        agreement = float(np.mean(labels == expected))
        return {
            "outputs": {"label": outputs[0], "probabilities": outputs[1]},
            "label_agreement": agreement,
            "max_probability_difference": difference if np.isfinite(difference) else None,  # NaN: not JSON
            "passed": agreement == 1.0 and difference <= PROBABILITY_TOLERANCE,
        }
    predicted = np.asarray(answers[0], dtype=np.float64).reshape(-1)
    difference = float(np.abs(predicted - np.asarray(expected, dtype=np.float64)).max())
    scale = max(float(np.abs(expected).max()), 1.0)
    return {
        "outputs": {"label": outputs[0], "probabilities": None},
        "max_prediction_difference": difference if np.isfinite(difference) else None,
        "passed": difference <= PREDICTION_TOLERANCE * scale,
    }


def export_onnx(
    model: BaseEstimator, schema: list[Feature], test_features: pd.DataFrame
) -> tuple[bytes | None, OnnxCheck]:
    """The ONNX copy of `model` and the manifest's onnx section; None and a fallback reason when it is not faithful."""
    rows = test_features.iloc[:CHECK_ROWS]
    if rows.empty:
        return None, fallback("no held-out rows to check a converted copy on")
    classifier = hasattr(model, "predict_proba") and hasattr(model, "classes_")
    try:
        onnx = convert(model, schema, classifier)
        try:
            runtime = session(onnx)
        except Exception as exc:  # onnxruntime's errors have no common base class
            raise NotConvertible(f"onnxruntime cannot load it: {one_line(exc)}") from None
        inputs = graph_inputs(runtime, schema)
        figures = check(model, runtime, inputs, schema, rows)
    except NotConvertible as exc:
        return None, fallback(str(exc))
    opset = opset_of(onnx)
    outputs: OnnxOutputs = figures.pop("outputs")
    if not figures.pop("passed"):
        return None, fallback(
            f"the converted copy differs from the pipeline ({differences(figures)})", len(rows), opset=opset, **figures
        )
    report: OnnxCheck = {
        "status": "passed",
        "reason": None,
        "file": "model.onnx",
        "opset": opset,
        "inputs": inputs,
        "outputs": outputs,
        "rows_checked": len(rows),
        "label_agreement": figures.get("label_agreement"),
        "max_probability_difference": figures.get("max_probability_difference"),
        "max_prediction_difference": figures.get("max_prediction_difference"),
        "versions": library_versions(),
    }
    return onnx, report


def differences(figures: dict[str, Any]) -> str:
    """The check's figures in words: label agreement and the largest difference."""
    said = []
    if figures.get("label_agreement") is not None:
        said.append(f"labels agree on {figures['label_agreement']:.2%} of rows")
    if figures.get("max_probability_difference") is not None:
        said.append(
            f"probabilities within {figures['max_probability_difference']:.1e}, tolerance {PROBABILITY_TOLERANCE:.0e}"
        )
    if figures.get("max_prediction_difference") is not None:
        said.append(
            f"predictions within {figures['max_prediction_difference']:.1e}, "
            f"relative tolerance {PREDICTION_TOLERANCE:.0e}"
        )
    return "; ".join(said) or "its outputs are not all numbers"


def summary(report: OnnxCheck) -> str:
    """train's one line about the ONNX copy."""
    if report["status"] != "passed":
        return f"train: no ONNX copy ({report['reason']}); serving uses the pickle"
    rows = report["rows_checked"]
    if report["max_probability_difference"] is not None:
        return (
            f"train: ONNX copy checked on {rows:,} rows: labels equal, "
            f"probabilities within {report['max_probability_difference']:.1e}"
        )
    return f"train: ONNX copy checked on {rows:,} rows: predictions within {report['max_prediction_difference']:.1e}"
