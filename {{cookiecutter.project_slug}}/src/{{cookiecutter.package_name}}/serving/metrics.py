"""Prometheus metrics of the model API (prometheus_client), and GET /metrics for a scraper.

Under gunicorn each worker counts on its own: start.sh sets PROMETHEUS_MULTIPROC_DIR, where the
client's multiprocess mode keeps every worker's counts in files that /metrics adds up. Without
it (runserver, tests) the counts live in the process.
"""

import collections
import hmac
import os
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from django.http import HttpRequest, HttpResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

from ..registry.manifest import Manifest
from . import conf

REQUESTS = Counter("model_requests", "Requests to the model API, by endpoint and status", ["endpoint", "status"])
LATENCY = Histogram("model_request_duration_seconds", "Time to answer a model API request", ["endpoint"],
                    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))  # fmt: skip
ROWS = Counter("model_rows_predicted", "Rows (or images) predicted, by source", ["source"])
CLASSES = Counter("model_predictions", "Predictions of a classifier, by class", ["label"])
REFUSED = Counter("model_rows_refused", "Rows refused, by reason (the first error of each row)", ["reason"])
OUTSIDE = Counter("model_values_outside_training_range", "Numbers outside the training range, by feature",
                  ["feature"])  # fmt: skip
RECOMMENDED = Counter("model_items_recommended", "Items a recommender answered", ["fallback"])
TEXTS = Counter("model_texts_tagged", "Texts an entity tagger read, by source", ["source"])
ENTITIES = Counter("model_entities_found", "Entities an entity tagger found, by label", ["label"])
# An info metric as a gauge: prometheus_client's Info has no multiprocess mode.
INFO = Gauge("model_info", "The served model: 1, labelled with its version, sha256 and runtime",
             ["version", "sha256", "runtime"], multiprocess_mode="livemax")  # fmt: skip
_values: dict[str, Histogram] = {}  # a regressor's predicted values, bucketed at its training target's deciles
SMALL_BATCH = 20  # rows up to which the range check compares in Python, not numpy


def endpoint_of(request: HttpRequest) -> str | None:
    """The API route a request reached (predict, model, ...), or None outside the serving app."""
    match = getattr(request, "resolver_match", None)
    if match is None or "api" not in match.namespaces:
        return None
    return match.route.rsplit("/", 1)[-1] or match.url_name or "other"


class MetricsMiddleware:
    """Count and time each request to the serving app's API (add it to MIDDLEWARE)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        if conf.setting("SERVING_METRICS") and (endpoint := endpoint_of(request)):
            LATENCY.labels(endpoint).observe(time.perf_counter() - started)
            REQUESTS.labels(endpoint, str(response.status_code)).inc()
        return response


def model_served(manifest: Manifest, runtime: str) -> None:
    """Name the served model in model_info: only the model served now (a reload replaces the one before)."""
    INFO.clear()
    INFO.labels(manifest.get("version") or manifest["sha256"][:12], manifest["sha256"], runtime).set(1)


def recommended(items: int, fallback: str | None) -> None:
    """Count a recommender's answered items, by the fallback used ("none" when it knew the user or item)."""
    if conf.setting("SERVING_METRICS"):
        RECOMMENDED.labels(fallback or "none").inc(items)


def tagged(answers: list[list[dict[str, Any]]], source: str) -> None:
    """Count a tagger's texts, and the entities it found by label: a label that stops turning up shows here."""
    if conf.setting("SERVING_METRICS"):
        TEXTS.labels(source).inc(len(answers))
        for label, count in collections.Counter(e["label"] for found in answers for e in found).items():
            ENTITIES.labels(label).inc(count)


def predicted(manifest: Manifest, answer: dict[str, Any], source: str) -> None:
    """Count an answer's rows and its classes (or bucket its values)."""
    predictions = answer["predictions"]
    ROWS.labels(source).inc(len(predictions))
    if manifest["task"] == "classification":
        for label, count in collections.Counter(map(str, predictions)).items():  # for one row, far cheaper than numpy
            CLASSES.labels(label).inc(count)
        return
    histogram = value_histogram(manifest)
    for value in predictions:
        histogram.observe(float(value))


def value_histogram(manifest: Manifest) -> Histogram:
    """The histogram of a regressor's predicted values, made on first use: its buckets are the target's deciles."""
    if "value" not in _values:
        deciles = tuple(manifest["data"].get("target_deciles") or ())
        buckets = (*deciles, float("inf")) if deciles else Histogram.DEFAULT_BUCKETS
        _values["value"] = Histogram("model_predicted_value", "Predicted values of a regressor", buckets=buckets)
    return _values["value"]


def outside_training(manifest: Manifest, rows: list[dict[str, Any]]) -> None:
    """Count the numbers of validated rows that lie outside their feature's training range."""
    ranges = manifest["data"].get("ranges") or {}
    if not ranges or not rows:
        return
    if len(rows) <= SMALL_BATCH:  # a request's few rows: plain comparisons beat building an array
        for name, (low, high) in ranges.items():
            if outside := sum(1 for row in rows if (value := row.get(name)) is not None and not low <= value <= high):
                OUTSIDE.labels(name).inc(outside)
        return
    names = list(ranges)
    values = np.array([[row.get(name) for name in names] for row in rows], dtype=float)  # None (missing): NaN
    low, high = np.array([ranges[name] for name in names], dtype=float).T
    for name, outside in zip(names, ((values < low) | (values > high)).sum(axis=0).tolist(), strict=True):
        if outside:
            OUTSIDE.labels(name).inc(outside)


def refused(reasons: list[str]) -> None:
    """Count refused rows by the reason each was refused."""
    for reason in reasons:
        REFUSED.labels(reason).inc()


def metrics_view(request: HttpRequest) -> HttpResponse:
    """GET /metrics: the Prometheus text format; 404 when SERVING_METRICS is off, 401 without its token."""
    if not conf.setting("SERVING_METRICS"):
        return HttpResponse("metrics are off (SERVING_METRICS)\n", status=404, content_type="text/plain")
    token = conf.setting("SERVING_METRICS_TOKEN")
    sent = request.headers.get("Authorization", "")
    if token and not hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
        return HttpResponse("send the metrics token: Authorization: Bearer <SERVING_METRICS_TOKEN>\n", status=401,
                            content_type="text/plain", headers={"WWW-Authenticate": "Bearer"})  # fmt: skip
    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
