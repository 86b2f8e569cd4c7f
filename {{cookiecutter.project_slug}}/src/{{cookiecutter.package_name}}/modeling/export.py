"""The portable model: the fitted pipeline converted by skl2onnx, checked against it on held-out rows (train only).

Serving answers from models/model.onnx through onnxruntime only when this check passed. Anything
that cannot convert, or converts but answers differently, falls back to the pickle with a one-line
reason in the manifest: nothing fails.
"""

import contextlib
import copy
import warnings
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.impute import SimpleImputer

from ..data.schema import Feature, image_feature
from ..features.preprocessor import DateParts, OwnFeatures
from ..registry.manifest import OnnxCheck, OnnxInput, OnnxOutputs
from .portable import Row, onnx_feed
from .predict import predict_once

# The highest ONNX operator set the graph may use (skl2onnx uses the lowest that expresses it): fixed, so
# the file does not change with skl2onnx's default; onnxruntime >= 1.20 (pyproject.toml) runs it.
TARGET_OPSET = 21
# The largest class-probability difference the check accepts. Measured on every dataset option and model
# (float32 in ONNX, float64 in scikit-learn): at most 7e-7; about ten times that leaves room for larger models.
PROBABILITY_TOLERANCE = 1e-5
# A regression's largest difference, relative to the largest prediction (or 1): measured at most 5e-7.
PREDICTION_TOLERANCE = 1e-5
# The held-out rows checked: enough to exercise every branch of a model, quick to run.
CHECK_ROWS = 2_000
# A missing category in the graph: skl2onnx's imputer handles string missing values only, so serving sends "".
MISSING_STRING = ""
# The text tokenizer in the graph: features/preprocessor.py's TOKEN_PATTERN ("(?u)\b\w\w+\b") in RE2's
# syntax (onnxruntime's): two or more Unicode letters, digits or underscores.
TOKEN_REGEX = r"[\p{L}\p{N}_]{2,}"
# Lower-casing in the graph needs a locale; C.UTF-8 is in every glibc and slim image (en_US.UTF-8 is not).
TEXT_LOCALE = "C.UTF-8"
LIBRARIES = ("skl2onnx", "onnx", "onnxruntime")
# The graph input that holds every number feature, side by side (modeling/portable.py's numbers).
NUMBERS_INPUT = "numbers"


class NotConvertible(Exception):
    """The pipeline has no faithful ONNX copy: the message, one line, is the manifest's reason."""


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


def steps(model: Any) -> list[Any]:
    """Every estimator inside a fitted pipeline: pipelines' steps, column transformers' parts, the model itself."""
    found = [model]
    for child in [*getattr(model, "steps", []), *getattr(model, "transformers_", [])]:
        found += steps(child[1])
    for attribute in ("estimator", "best_estimator_"):
        if isinstance(getattr(model, attribute, None), BaseEstimator):
            found += steps(getattr(model, attribute))
    return found


def portable_copy(model: BaseEstimator, schema: list[Feature]) -> BaseEstimator:
    """A deep copy that skl2onnx converts as it computes: the same fitted values, ONNX-friendly plumbing.

    Its string imputers take "" as missing (skl2onnx imputes strings only), and its number and date
    encoders read their columns by position in the graph's inputs (see `graph_layout`): skl2onnx
    would read one column of a named input.
    """
    if any(isinstance(step, OwnFeatures) for step in steps(model)):
        raise NotConvertible("your own features (features/custom.py) are Python functions that ONNX cannot express")
    portable = copy.deepcopy(model)
    positions = input_positions(schema)
    numbers = {feature["name"] for feature in schema if feature["kind"] == "number"}
    for step in steps(portable):
        if isinstance(step, SimpleImputer) and getattr(step, "statistics_", np.zeros(0)).dtype == object:
            step.missing_values = MISSING_STRING
        if isinstance(getattr(step, "transformers_", None), list):
            step.transformers_ = [
                (name, part, located(part, columns, positions, numbers)) for name, part, columns in step.transformers_
            ]
    return portable


def located(part: Any, columns: Any, positions: dict[str, list[int]], numbers: set[str]) -> Any:
    """A ColumnTransformer part's columns as the graph reads them: by position for dates and numbers, else by name."""
    first = part.steps[0][1] if hasattr(part, "steps") else part
    if isinstance(first, DateParts) or (isinstance(columns, list) and set(columns) <= numbers):
        return [i for column in columns for i in positions[column]]
    return columns


def graph_layout(schema: list[Feature]) -> list[tuple[str, list[Feature]]]:
    """The graph's inputs, in order, with the features each holds: all numbers in one, then one per other feature.

    One array of numbers instead of one input per number: onnxruntime's cost per call grows with its
    inputs (one row of 30 numbers: 7 µs packed, 45 µs as 30 inputs).
    """
    numbers = [feature for feature in schema if feature["kind"] == "number"]
    taken, packed = {feature["name"] for feature in schema}, NUMBERS_INPUT
    while packed in taken:  # a feature of that name: the input takes another
        packed += "_"
    inputs = [(packed, numbers)] if numbers else []
    return inputs + [(feature["name"], [feature]) for feature in schema if feature["kind"] != "number"]


def width(features: list[Feature]) -> int:
    """The columns of one graph input: one per number, per date part, per pixel; one for a category or text."""
    if features[0]["kind"] == "date":
        return len(features[0].get("parts", []))
    if features[0]["kind"] == "image":
        return int(features[0]["pixels"])
    return len(features)


def input_positions(schema: list[Feature]) -> dict[str, list[int]]:
    """Each feature's columns in the graph's inputs side by side: a number has one, a date one per part."""
    positions, start = {}, 0
    for _, features in graph_layout(schema):
        if features[0]["kind"] == "number":
            for offset, feature in enumerate(features):
                positions[feature["name"]] = [start + offset]
        else:
            positions[features[0]["name"]] = list(range(start, start + width(features)))
        start += width(features)
    return positions


def input_types(schema: list[Feature]) -> list[tuple[str, Any]]:
    """The graph's inputs (`graph_layout`): numbers, date parts and pixels as floats, the rest as strings."""
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType

    types: list[tuple[str, Any]] = []
    for name, features in graph_layout(schema):
        if features[0]["kind"] in ("number", "date", "image"):
            types.append((name, FloatTensorType([None, width(features)])))
        else:
            types.append((name, StringTensorType([None, 1])))
    return types


def date_parts_shape(operator: Any) -> None:
    """skl2onnx shape calculator for DateParts: its float input (the parts, computed outside the graph) as it is."""
    operator.outputs[0].type = operator.inputs[0].type.__class__(operator.inputs[0].type.shape)


def date_parts_identity(scope: Any, operator: Any, container: Any) -> None:
    """skl2onnx converter for DateParts: an identity, as modeling/portable.py feeds the parts themselves."""
    container.add_node(
        "Identity",
        operator.inputs[0].full_name,
        operator.outputs[0].full_name,
        name=scope.get_unique_operator_name("DateParts"),
    )


def convert(model: BaseEstimator, schema: list[Feature], classifier: bool) -> bytes:
    """The skl2onnx conversion of `model`; NotConvertible with the converter's reason when it cannot."""
    try:
        from skl2onnx import convert_sklearn, update_registered_converter
    except ImportError:
        raise NotConvertible("skl2onnx is not installed") from None
    update_registered_converter(DateParts, "ProjectDateParts", date_parts_shape, date_parts_identity)
    portable = portable_copy(model, schema)
    options: dict[int, dict[str, Any]] = {id(portable): {"zipmap": False}} if classifier else {}
    for step in steps(portable):
        if isinstance(step, TfidfVectorizer):
            options[id(step)] = {"tokenexp": TOKEN_REGEX, "locale": TEXT_LOCALE}
    try:
        with warnings.catch_warnings():  # skl2onnx reads attributes scikit-learn deprecates (SVC's probA_)
            warnings.simplefilter("ignore", FutureWarning)
            graph = convert_sklearn(
                portable, "model", input_types(schema), options=options, target_opset=TARGET_OPSET
            )  # a fixed graph name (skl2onnx's default is random): the same pipeline gives the same bytes
    except Exception as exc:  # any converter's refusal: the reason is its message
        raise NotConvertible(f"skl2onnx cannot convert it: {one_line(exc)}") from None
    # skl2onnx lists the operator sets in an order that varies between processes: sorted, the bytes do not
    ordered = sorted(graph.opset_import, key=lambda opset: opset.domain)
    del graph.opset_import[:]
    graph.opset_import.extend(ordered)
    return graph.SerializeToString()


def one_line(exc: BaseException) -> str:
    """An exception as one short line: its type and first line, and its cause's (converters wrap errors)."""
    lines = str(exc).strip().splitlines()
    text = lines[0] if lines else ""
    said = f"{type(exc).__name__}: {text[:100]}{'...' if len(text) > 100 else ''}" if text else type(exc).__name__
    return f"{said} ({one_line(exc.__cause__)})" if exc.__cause__ is not None else said


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


def graph_inputs(runtime: Any, schema: list[Feature]) -> list[OnnxInput]:
    """The session's input names (skl2onnx sanitises them) with the features each reads (`graph_layout`)."""
    names, layout = [item.name for item in runtime.get_inputs()], graph_layout(schema)
    if len(names) != len(layout):
        raise NotConvertible(f"the graph has {len(names)} inputs where {len(layout)} were declared")
    return [
        {
            "name": name,
            "features": [feature["name"] for feature in features],
            "kind": "numbers" if features[0]["kind"] == "number" else features[0]["kind"],
        }
        for name, (_, features) in zip(names, layout, strict=True)
    ]


def check(
    model: BaseEstimator, runtime: Any, inputs: list[OnnxInput], schema: list[Feature], rows: pd.DataFrame
) -> dict[str, Any]:
    """The figures of the ONNX copy against the pipeline on `rows`, and whether they are within tolerance."""
    outputs = [item.name for item in runtime.get_outputs()]
    expected, probabilities = predict_once(model, rows)
    try:
        answers = runtime.run(None, onnx_feed(inputs, schema, feature_rows(rows, schema)))
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


def opset_of(onnx: bytes) -> int | None:
    """The main ONNX operator set the graph uses."""
    import onnx as onnx_library

    graph = onnx_library.load_model_from_string(onnx)
    return next((int(entry.version) for entry in graph.opset_import if entry.domain in ("", "ai.onnx")), None)


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
