"""Where scikit-learn's joblib work runs: this machine, or a Dask cluster (params.yaml: train.backend)."""

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import joblib
from sklearn.base import BaseEstimator
from sklearn.linear_model import LogisticRegression

from ...errors import PipelineError
from ...params import model_hyperparams

try:  # scikit-learn's error for a parameter of the right name but a bad value (private module, so guarded)
    from sklearn.utils._param_validation import InvalidParameterError
except ImportError:  # pragma: no cover
    InvalidParameterError = ()  # catch nothing: the traceback shows the error instead

BACKENDS = ("local", "dask")


def fit_parallel(model: BaseEstimator, features: Any, labels: Any, train_params: dict[str, Any]) -> str:
    """Fit with every core of the backend; the saved model then predicts on one core, whatever trained it.

    n_jobs is a setting of the run, not of the model: it is -1 while fitting and back to the
    estimator's default afterwards, so the saved model's settings do not depend on where it trained.
    """
    estimator = (getattr(model, "estimator", model)).named_steps["estimator"]
    # LogisticRegression's n_jobs does nothing since scikit-learn 1.8, and says so in a warning
    threads = "n_jobs" in estimator.get_params() and not isinstance(estimator, LogisticRegression)
    parallel = threads and "n_jobs" not in model_hyperparams(train_params)
    if parallel:
        estimator.set_params(n_jobs=-1)
    with parallel_backend(train_params) as backend:
        try:
            model.fit(features, labels)
        except InvalidParameterError as exc:
            section = "train.search" if "SearchCV" in str(exc) else f"train.hyperparams.{train_params['model']}"
            raise PipelineError(f"{section}: {str(exc).splitlines()[0]}") from None
    if parallel:
        estimator.set_params(n_jobs=None)
        best = getattr(model, "best_estimator_", None)
        if best is not None:
            best.named_steps["estimator"].set_params(n_jobs=None)
    return backend


@contextmanager
def parallel_backend(train_params: dict[str, Any]) -> Iterator[str]:
    """Route joblib (forest fitting, cross-validation, search) to the chosen backend; yield its description."""
    backend = train_params.get("backend") or "local"
    if backend not in BACKENDS:
        raise PipelineError(f"train.backend {backend!r} is not one of {', '.join(BACKENDS)}")
    if backend == "local":
        yield "local"
        return
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise PipelineError("train.backend is dask but Dask is not installed: pip install -e '.[dask]'") from None
    settings = train_params.get("dask") or {}
    scheduler, timeout = settings.get("scheduler") or "", settings.get("timeout", 10)
    with ExitStack() as stack:
        if scheduler:
            try:
                client = stack.enter_context(Client(scheduler, timeout=timeout))
            except (OSError, TimeoutError) as exc:
                raise PipelineError(
                    f"cannot reach the Dask scheduler at {scheduler} within {timeout} s "
                    f"(train.dask.scheduler; empty starts a local cluster): {exc}"
                ) from None
        else:
            workers = settings.get("workers", 2)
            cluster = stack.enter_context(
                LocalCluster(n_workers=workers, threads_per_worker=1, dashboard_address=None, processes=True)
            )
            client = stack.enter_context(Client(cluster))
        stack.enter_context(joblib.parallel_config(backend="dask"))
        yield f"dask ({client.scheduler.address})"
