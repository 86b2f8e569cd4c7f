"""The entities kind's train: fit the CRF on the annotated texts, score it, save crfsuite's file."""

import time
from typing import Any

from ..data.dtypes import read_parquet
from ..errors import PipelineError
from ..formatting import did_you_mean
from ..paths import MODEL_PATH, TEST_PATH, TRAIN_PATH
from ..registry.artifacts import save_model
from ..registry.provenance import data_hash, describe
from .annotations import from_frame
from .artifact import SUFFIX
from .metrics import entity_metrics
from .tagger import TAGGERS, train_tagger

LIBRARIES = ("python-crfsuite", "seqeval", "pandas")
HIGHLIGHTED = 5  # held-out texts the report draws with their true and found entities


def parameter_names(model: str) -> list[str]:
    """The hyperparameter names of tagger `model`: params.py's hints for a misspelt key."""
    return sorted(TAGGERS.get(model, {}))


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


def train(params: dict[str, Any]) -> None:
    """Fit train.model on the training texts, score it on the held-out ones, save crfsuite's file and the manifest."""
    train_params = params["train"]
    model = train_params["model"]
    hyperparams = hyperparams_of(model, (train_params.get("hyperparams") or {}).get(model))
    frame = read_parquet(TRAIN_PATH)
    train, test = from_frame(frame), from_frame(read_parquet(TEST_PATH))
    print(f"train: fitting a CRF on {len(train):,} annotated texts", flush=True)
    started = time.perf_counter()
    tagger = train_tagger(train, hyperparams)
    seconds = time.perf_counter() - started
    manifest = describe(
        params,
        task="entities",
        target="entities",  # the entity labels are in the tagger section
        estimator="CRF (python-crfsuite)",
        metrics=entity_metrics(tagger, train, test),
        data={"train_rows": len(train), "sha256": data_hash(frame)},
        libraries=LIBRARIES,
        tagger={
            "model": model,
            "hyperparams": hyperparams,
            "file": MODEL_PATH.with_suffix(SUFFIX).name,
            "labels": tagger.labels,
        },
    )
    saved = save_model(tagger, manifest, MODEL_PATH, (SUFFIX, tagger.model))
    metrics = manifest["metrics"]
    print(f"train: fitted in {seconds:.1f} s; entity F1 {metrics['f1']} (baseline {metrics['baseline_f1']}); "
          f"sha256 {saved['sha256'][:12]}")  # fmt: skip
