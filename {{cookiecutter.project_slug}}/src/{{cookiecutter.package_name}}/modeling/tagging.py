"""The train and evaluate stages of an entity tagger (train.task: entities): what train.py and evaluate.py call."""

import platform
import time
from importlib.metadata import version
from typing import Any

from ..data.annotations import from_frame
from ..data.dtypes import read_parquet
from ..errors import PipelineError
from ..formatting import did_you_mean
from ..paths import MODEL_PATH, TEST_PATH, TRAIN_PATH
from ..registry.artifacts import load_tagger, save_model
from .entity_metrics import entity_metrics
from .tagger import TAGGERS, train_tagger

LIBRARIES = ("python-crfsuite", "seqeval", "pandas")
HIGHLIGHTED = 5  # held-out texts the report draws with their true and found entities


def hyperparams_of(model: str, given: dict[str, Any] | None) -> dict[str, Any]:
    """The tagger's hyperparameters: its defaults updated by train.hyperparams.<model>, unknown names refused."""
    if model not in TAGGERS:
        raise PipelineError(f"train.model {model!r} is not an entity tagger: use one of {', '.join(TAGGERS)}")
    for key in given or {}:
        if key not in TAGGERS[model]:
            raise PipelineError(
                f"train.hyperparams.{model}: {key!r} is not one of its parameters ({', '.join(TAGGERS[model])})"
                + did_you_mean(key, TAGGERS[model])
            )
    return TAGGERS[model] | dict(given or {})


def train_entities(params: dict[str, Any], git_commit: str | None, data_hash: str) -> None:
    """Fit train.model on the training texts, score it on the held-out ones, save crfsuite's file and the manifest."""
    train_params = params["train"]
    model = train_params["model"]
    hyperparams = hyperparams_of(model, (train_params.get("hyperparams") or {}).get(model))
    train, test = from_frame(read_parquet(TRAIN_PATH)), from_frame(read_parquet(TEST_PATH))
    print(f"train: fitting a CRF on {len(train):,} annotated texts", flush=True)
    started = time.perf_counter()
    tagger = train_tagger(train, hyperparams)
    seconds = time.perf_counter() - started
    manifest: dict[str, Any] = {
        "task": "entities",
        "target": "entities",
        "classes": None,  # the entity labels are in the tagger section
        "features": [],  # a tagger reads text, tokenised by features/tokens.py
        "estimator": "CRF (python-crfsuite)",
        "params": {"train": train_params, "prepare": params["prepare"]},
        "metrics": entity_metrics(tagger, train, test),
        "search": None,
        "data": {"train_rows": len(train), "sha256": data_hash},
        "tagger": {
            "model": model,
            "hyperparams": hyperparams,
            "file": MODEL_PATH.with_suffix(".crfsuite").name,
            "labels": tagger.labels,
        },
        "versions": {"python": platform.python_version(), **{lib: version(lib) for lib in LIBRARIES}},
        "git_commit": git_commit,
    }
    saved = save_model(tagger, manifest, MODEL_PATH, tagger=tagger.model)
    metrics = manifest["metrics"]
    print(f"train: fitted in {seconds:.1f} s; entity F1 {metrics['f1']} (baseline {metrics['baseline_f1']}); "
          f"sha256 {saved['sha256'][:12]}")  # fmt: skip


def evaluate_entities() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The entity scores of crfsuite's saved file, read through its hash check as serving reads it; a few texts."""
    loaded = load_tagger(MODEL_PATH)
    train, test = from_frame(read_parquet(TRAIN_PATH)), from_frame(read_parquet(TEST_PATH))
    examples = [
        {"text": text.text, "true": text.entities, "found": loaded.tagger.entities(text.text)}
        for text in sorted(test, key=lambda text: (-len(text.entities), len(text.text)))[:HIGHLIGHTED]
    ]
    return entity_metrics(loaded.tagger, train, test), examples
