"""The fitted pipeline as an ONNX graph (skl2onnx): the plumbing that makes the graph compute what the pipeline does.

The graph reads every number feature from one float input, then one input per other feature
(`graph_layout`); modeling/portable.py builds those inputs at serving time. train runs the
conversion through modeling/export.py, which checks the result before anything is written.
"""

import copy
import warnings
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.impute import SimpleImputer

from ...registry.manifest import Feature, OnnxInput
from ..features.preprocessor import DateParts, OwnFeatures

# The highest ONNX operator set the graph may use (skl2onnx uses the lowest that expresses it): fixed, so
# the file does not change with skl2onnx's default; onnxruntime >= 1.20 (pyproject.toml) runs it.
TARGET_OPSET = 21
# A missing category in the graph: skl2onnx's imputer handles string missing values only, so serving sends "".
MISSING_STRING = ""
# The text tokenizer in the graph: features/preprocessor.py's TOKEN_PATTERN ("(?u)\b\w\w+\b") in RE2's
# syntax (onnxruntime's): two or more Unicode letters, digits or underscores.
TOKEN_REGEX = r"[\p{L}\p{N}_]{2,}"
# Lower-casing in the graph needs a locale; C.UTF-8 is in every glibc and slim image (en_US.UTF-8 is not).
TEXT_LOCALE = "C.UTF-8"
# The graph input that holds every number feature, side by side (modeling/portable.py's numbers).
NUMBERS_INPUT = "numbers"


class NotConvertible(Exception):
    """The pipeline has no faithful ONNX copy: the message, one line, is the manifest's reason."""


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
        raise NotConvertible(
            "your own features (table/features/custom.py) are Python functions that ONNX cannot express"
        )
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


def opset_of(onnx: bytes) -> int | None:
    """The main ONNX operator set the graph uses."""
    import onnx as onnx_library

    graph = onnx_library.load_model_from_string(onnx)
    return next((int(entry.version) for entry in graph.opset_import if entry.domain in ("", "ai.onnx")), None)


def one_line(exc: BaseException) -> str:
    """An exception as one short line: its type and first line, and its cause's (converters wrap errors)."""
    lines = str(exc).strip().splitlines()
    text = lines[0] if lines else ""
    said = f"{type(exc).__name__}: {text[:100]}{'...' if len(text) > 100 else ''}" if text else type(exc).__name__
    return f"{said} ({one_line(exc.__cause__)})" if exc.__cause__ is not None else said
