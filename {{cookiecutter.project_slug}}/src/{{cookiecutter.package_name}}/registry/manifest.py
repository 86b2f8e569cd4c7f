"""The manifest, models/model.json: what a trained model is, typed once for train, serving and the report."""

from typing import Any, Literal, NotRequired, TypedDict

__all__ = ["Feature", "Manifest", "OnnxCheck", "OnnxInput", "OnnxOutputs", "RecommenderInfo", "Row", "TaggerInfo"]


class Feature(TypedDict):
    """One input feature as the manifest records it, and as serving validates requests against it."""

    name: str
    dtype: str
    kind: Literal["number", "category", "date", "text", "image"]
    nullable: bool
    categories: list[str] | None  # a category's values seen in training; None for numbers, dates and text
    parts: NotRequired[list[str]]  # a date's parts (DATE_PARTS, and "hour" when times vary)
    minimum: NotRequired[float]  # a number's bounds that keep the model's arithmetic finite (modeling/bounds.py)
    maximum: NotRequired[float]
    size: NotRequired[list[int]]  # an image's [width, height] and colour as the model sees it (data/images.py)
    color: NotRequired[str]
    pixels: NotRequired[int]


def image_feature(schema: list[Feature]) -> Feature | None:
    """The image feature of an image model (its one feature), or None for a model that reads tables or text."""
    return next((feature for feature in schema if feature["kind"] == "image"), None)


Row = dict[str, Any]  # one validated instance: feature name -> value; a missing value is None or left out


class OnnxInput(TypedDict):
    """One input of models/model.onnx: its name in the graph (skl2onnx sanitises names) and the features it reads."""

    name: str
    features: list[str]  # every number feature, in order, for `numbers`; else the one feature
    kind: str  # numbers, or the feature's kind: how modeling/portable.py's onnx_feed builds the array


class OnnxOutputs(TypedDict):
    """The graph's output names: the label, and the class probabilities of a classifier."""

    label: str
    probabilities: str | None


class OnnxCheck(TypedDict):
    """The manifest's `onnx` section: the portable copy and train's check of it against the pipeline."""

    status: Literal["passed", "fallback"]  # fallback: no model.onnx, serving uses the pickle
    reason: str | None  # why it fell back, in one line
    file: str | None  # "model.onnx" when passed
    opset: int | None
    inputs: list[OnnxInput]
    outputs: OnnxOutputs | None
    rows_checked: int
    label_agreement: float | None  # classification: the share of held-out rows with the same label
    max_probability_difference: float | None
    max_prediction_difference: float | None  # regression
    versions: dict[str, str]  # skl2onnx, onnx, onnxruntime


class RecommenderInfo(TypedDict):
    """The manifest's `recommender` section (train.task: recommend): what the arrays in model.npz hold."""

    model: str  # train.model: popularity, item_knn or als
    hyperparams: dict[str, Any]
    k: int  # the list length the ranking metrics judge (train.k)
    file: str  # model.npz: what serving reads, never unpickled
    neighbors: int  # similar items kept per item
    metadata: list[str]  # the columns of data.items each answer carries
    columns: dict[str, str | None]  # data.interactions: the export's user, item, rating and time columns


class TaggerInfo(TypedDict):
    """The manifest's `tagger` section (train.task: entities): crfsuite's model file and what it tags."""

    model: str  # train.model: crf
    hyperparams: dict[str, Any]
    file: str  # model.crfsuite: what serving opens with crfsuite, never unpickled
    labels: list[str]  # the entity labels it tags


class Manifest(TypedDict):
    """models/model.json: written by train (through registry.artifacts.save_model), read by everything after."""

    model_file: str
    sha256: str  # model_file's: it names the version
    files: NotRequired[dict[str, str]]  # sha256 of each model file: model.joblib, and model.onnx when written
    size_bytes: int
    task: Literal["classification", "regression", "recommend", "entities"]
    target: str  # the predicted column; a recommender's is its item column (it predicts items)
    classes: list[Any] | None  # class labels in the order of predict_proba's columns; None for regression
    features: list[Feature]
    estimator: str
    params: dict[str, Any]  # {"train": ..., "prepare": ...} as in params.yaml
    metrics: dict[str, float | None]  # None: undefined on the test rows (NaN), written as null
    search: dict[str, Any] | None
    # {"train_rows", "sha256", "ranges": {number feature: [min, max]}, "target_deciles"}: what serving counts as unusual
    data: dict[str, Any]
    versions: dict[str, str]  # python and library versions
    git_commit: str | None
    onnx: NotRequired[OnnxCheck]
    recommender: NotRequired[RecommenderInfo]
    tagger: NotRequired[TaggerInfo]
    version: NotRequired[str]  # the release (model@v0.0.3), set by serving when it loads the model
