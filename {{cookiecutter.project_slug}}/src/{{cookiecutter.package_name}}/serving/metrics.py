"""Prometheus metrics of the model API (prometheus_client), and GET /metrics for a scraper.

Under gunicorn each worker counts on its own: start.sh sets PROMETHEUS_MULTIPROC_DIR, where the
client's multiprocess mode keeps every worker's counts in files that /metrics adds up. Without
it (runserver, tests) the counts live in the process.
"""

import collections
import functools
import hmac
import itertools
import math
import os
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve, reverse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ..data.bins import bin_labels
from ..monitoring.verdicts import VERDICTS
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
# livemax: a batch command (manage.py monitor) sharing the folder never pulls it to 0.
LOADED = Gauge("model_loaded", "1 while a verified model is loaded, 0 when the API answers 503",
               multiprocess_mode="livemax")  # fmt: skip
# The served model's own test-set figures, so alert rules compare live values with them, not with numbers typed in.
TEST_METRIC = Gauge("model_test_metric", "The served model's metric on its test set (metrics.json)", ["metric"],
                    multiprocess_mode="livemax")  # fmt: skip
TEST_SHARE = Gauge("model_test_class_share", "Each class's share of the served model's answers on its test set",
                   ["label"], multiprocess_mode="livemax")  # fmt: skip
FEEDBACK = Counter("model_feedback_labels", "True labels recorded through POST /api/feedback")
# The prediction log's way to the database (serving/log_writer.py): what queued, what was written, what was lost.
LOG_QUEUED = Counter("model_log_rows_queued", "Prediction log rows queued by answered requests")
LOG_WRITTEN = Counter("model_log_rows_written", "Prediction log rows written to the database")
LOG_DROPPED = Counter("model_log_rows_dropped", "Prediction log rows lost before the database (a full spool)")
# Each worker's process, labelled by pid (the default process collector sees only the scraping worker): made on
# first use, in the processes that serve, so a `migrate` or `monitor` sharing the folder adds no series of its own.
PROCESS_GAUGES = {
    "process_resident_memory_bytes": ("model_worker_resident_memory_bytes", "Resident memory of each worker"),
    "process_cpu_seconds_total": ("model_worker_cpu_seconds", "CPU time each worker has used"),
    "process_start_time_seconds": ("model_worker_start_time_seconds", "When each worker started (Unix time)"),
}
_process: dict[str, Gauge] = {}
_process_lock = threading.Lock()  # the sampling thread and a scrape may make them at once
TIMEOUTS = Counter("model_worker_timeouts", "Requests gunicorn aborted when they overran GUNICORN_TIMEOUT")
PROCESS = ProcessCollector(registry=None)  # read, not registered: its samples go to the pid-labelled gauges
# Pre-created at 0 so alert rules see them before their first event (model_served): endpoints and refusal reasons.
ENDPOINTS = ("predict", "image", "feedback", "model", "health", "recommend", "similar", "entities", "unmatched")
REASONS = ("missing", "extra_forbidden", "not_finite", "json_invalid")
current_request: HttpRequest | None = None  # the request this worker is answering, for worker_aborted()
_values: dict[str, Histogram] = {}  # a regressor's predicted values, bucketed at its training target's deciles
SMALL_BATCH = 20  # rows up to which the range check compares in Python, not numpy


def endpoint_of(request: HttpRequest) -> str | None:
    """The API route a request reached (predict, model, ...), "metrics", "unmatched" for a 404 under the API; else None.

    A request answered before URL resolution (the HTTPS redirect) or by none (a 404) has no
    resolver_match: its path is resolved here, so redirects and 404s under the API are counted too.
    """
    match = getattr(request, "resolver_match", None)
    if match is None:
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return "unmatched" if request.path_info.startswith(api_prefix()) else None
    if match.url_name == "metrics":
        return "metrics"
    if "api" not in match.namespaces:
        return None
    return match.route.rsplit("/", 1)[-1] or match.url_name or "other"


@functools.cache
def api_prefix() -> str:
    """Where the site mounts the API (/api/): a 404 under it is the API's."""
    return reverse("api:openapi-json").rsplit("/", 1)[0] + "/"


class MetricsMiddleware:
    """Count and time each request to the serving app's API and /metrics (add it first to MIDDLEWARE)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        global current_request  # one request at a time per gunicorn sync worker
        started = time.perf_counter()
        current_request = request  # named only if gunicorn aborts it: no URL resolution per request
        response = self.get_response(request)
        current_request = None
        if conf.setting("SERVING_METRICS") and (endpoint := endpoint_of(request)):
            LATENCY.labels(endpoint).observe(time.perf_counter() - started)
            REQUESTS.labels(endpoint, str(response.status_code)).inc()
        return response


def worker_aborted() -> None:
    """Count the request gunicorn aborts on a worker timeout as the 500 its client sees (gunicorn's worker_abort)."""
    TIMEOUTS.inc()
    if current_request is not None and (endpoint := endpoint_of(current_request)):
        REQUESTS.labels(endpoint, "500").inc()


def model_served(manifest: Manifest, runtime: str) -> None:
    """Name the served model in model_info (a reload replaces the one before), its test figures, and zeros to alert on.

    Every series an alert rule reads exists from the first scrape: a first 5xx then shows in increase().
    """
    INFO.clear()
    INFO.labels(manifest.get("version") or manifest["sha256"][:12], manifest["sha256"], runtime).set(1)
    LOADED.set(1)
    TEST_METRIC.clear()
    for name, value in (manifest.get("metrics") or {}).items():
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            TEST_METRIC.labels(name).set(value)
    for endpoint, status in itertools.product(ENDPOINTS, ("200", "500")):
        REQUESTS.labels(endpoint, status)
    ROWS.labels("api")
    for reason in REASONS:
        REFUSED.labels(reason)
    for label in manifest.get("classes") or []:
        CLASSES.labels(str(label))


def model_unavailable() -> None:
    """No verified model: model_loaded 0 (the API answers 503)."""
    LOADED.set(0)


def test_shares(answers: dict[str, Any] | None, manifest: Manifest) -> None:
    """Each class's share of the model's answers on its test set (evaluate's predictions_reference.json)."""
    TEST_SHARE.clear()
    if not answers or answers.get("model_sha256") != manifest["sha256"] or answers["check"]["kind"] != "category":
        return
    counts = answers["check"]["counts"]
    total = sum(counts) or 1
    for label, count in zip(bin_labels(answers["check"]), counts, strict=True):
        if count:
            TEST_SHARE.labels(label).set(count / total)


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
        found: collections.Counter[str] = collections.Counter()
        for row in rows:
            for name, (low, high) in ranges.items():
                value = row.get(name)
                if value is not None and not low <= value <= high:
                    found[name] += 1
        for name, outside in found.items():
            OUTSIDE.labels(name).inc(outside)
        return
    names = list(ranges)
    values = np.array([[row.get(name) for name in names] for row in rows], dtype=float)  # None (missing): NaN
    low, high = np.array([ranges[name] for name in names], dtype=float).T
    for name, outside in zip(names, ((values < low) | (values > high)).sum(axis=0).tolist(), strict=True):
        if outside:
            OUTSIDE.labels(name).inc(outside)


def feedback_recorded(labels: int) -> None:
    """Count the true labels POST /api/feedback recorded."""
    if conf.setting("SERVING_METRICS"):
        FEEDBACK.inc(labels)


def refused(reasons: list[str]) -> None:
    """Count refused rows by the reason each was refused."""
    for reason in reasons:
        REFUSED.labels(reason).inc()


class MonitorCollector(Collector):
    """The last `manage.py monitor` run, read from its history table at each scrape: alerts on verdicts and staleness.

    Before any run, the last-run time is 0 (so "stale" fires) and every verdict is 0.
    """

    def collect(self) -> Iterable[Metric]:
        from .monitor_history import newest_run  # the ORM: ready only once Django is set up

        run = newest_run()
        last = GaugeMetricFamily("model_monitor_last_run_timestamp_seconds", "When the monitor last ran (Unix time)")
        last.add_metric([], run.created.timestamp() if run else 0.0)
        verdicts = GaugeMetricFamily("model_monitor_verdict", "The last monitor run's verdict: 1 for it, 0 for the "
                                     "others", labels=["verdict"])  # fmt: skip
        for name in VERDICTS:
            verdicts.add_metric([name], float(run is not None and run.status == name))
        drifted = GaugeMetricFamily("model_monitor_drifted_checks", "Checks that drifted in the last monitor run")
        drifted.add_metric([], float(run.drifted) if run else 0.0)
        live = GaugeMetricFamily("model_monitor_live_metric", "The served model's metric on the labelled rows of the "
                                 "last monitor run", labels=["metric"])  # fmt: skip
        if run is not None and run.live is not None and run.metric:
            live.add_metric([run.metric], run.live)
        yield from (last, verdicts, drifted, live)


MONITOR = MonitorCollector()


def metrics_view(request: HttpRequest) -> HttpResponse:
    """GET /metrics: the Prometheus text format; 404 when SERVING_METRICS is off, 401 without its token."""
    if not conf.setting("SERVING_METRICS"):
        return HttpResponse("metrics are off (SERVING_METRICS)\n", status=404, content_type="text/plain")
    token = conf.setting("SERVING_METRICS_TOKEN")
    sent = request.headers.get("Authorization", "")
    if token and not hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
        return HttpResponse("send the metrics token: Authorization: Bearer <SERVING_METRICS_TOKEN>\n", status=401,
                            content_type="text/plain", headers={"WWW-Authenticate": "Bearer"})  # fmt: skip
    sample_process()
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(ProcessAndCounts())
    registry.register(MONITOR)
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


class ProcessAndCounts(Collector):
    """This process's own registry (counts, process metrics) when no multiprocess folder adds up the workers."""

    def collect(self) -> Iterable[Metric]:
        yield from REGISTRY.collect()


def sample_process() -> None:
    """Copy this process's memory, CPU and start time (prometheus_client's ProcessCollector) to its pid's gauges."""
    values = {sample.name: sample.value for family in PROCESS.collect() for sample in family.samples}
    for source, (name, description) in PROCESS_GAUGES.items():
        if source in values:  # Linux: /proc; elsewhere the collector has none
            with _process_lock:
                if name not in _process:
                    _process[name] = Gauge(name, description, multiprocess_mode="liveall")
            _process[name].set(values[source])


def start_sampling(interval: float = 10.0) -> None:
    """Sample this worker's process every `interval` seconds in a thread (a worker that never scrapes still shows)."""

    def run() -> None:
        while True:
            sample_process()
            time.sleep(interval)

    threading.Thread(target=run, name="process-metrics", daemon=True).start()
