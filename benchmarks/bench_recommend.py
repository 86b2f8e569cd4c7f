"""Measure the recommender's goals on a bake of the supermarket demo fed 1,000,000 interactions, in one run.

- Training: 1,000,000 interactions of 10,000 users with 20,000 items (each user 100 distinct items,
  70% from one of 200 taste groups and 30% by overall popularity, Zipf-like), written as the
  interactions CSV of the supermarket bake with no item metadata; `prepare` then `train`
  (train.model: item_knn, 50 neighbours) run as `dvc repro` runs them, each a process. Goal: `train`
  under 60 s wall-clock. Memory: the fit alone (recommend.recommenders.fit_recommender) in a fresh
  process, its resident memory sampled every 5 ms; the goal compares the peak above the process's
  memory before the fit (libraries, implicit's included, and the interactions loaded; implicit's
  thread pool started by a fit of 1,000 rows) with the interactions' own size in
  memory (the train split's DataFrame, deep): under 3x. A Python process holds ~150 MB of libraries
  before it reads a row, so the whole process's peak is reported beside it, not judged.
- Serving: that model behind start.sh (gunicorn, 2 sync workers, production settings), rounds of
  sequential `GET /api/items/{item}/similar?k=10` for random known items alternating with
  `GET /api/health` (p50, p99). Goal: similar's p50 within 1.5x of health's.
Run with `.venv/bin/python benchmarks/bench_recommend.py`; writes results/recommend.{json,md}.
"""

from __future__ import annotations

import json
import secrets
import statistics
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from bench_serving import free_port, get, server
from common import BIN, MACHINE, Runner, bake, timed, write_figures

USERS, ITEMS, PER_USER, GROUPS = 10_000, 20_000, 100, 200
ROUNDS, REQUESTS = 6, 250
SEED = 42
GOALS = {"train_s": 60.0, "memory_ratio": 3.0, "similar_vs_health": 1.5}

FIT_MEMORY = """
import json, sys, threading, time
import implicit.nearest_neighbours  # the library's code, loaded as the stage loads it before it fits
import pandas as pd, psutil
from {package}.recommend.recommenders import fit_recommender
frame = pd.read_parquet("data/prepared/train.parquet")
process, peak, done = psutil.Process(), [0], threading.Event()
def sample():
    while not done.is_set():
        peak[0] = max(peak[0], process.memory_info().rss)
        time.sleep(0.005)
fit_recommender("item_knn", frame.head(1000), {{"neighbors": 50}}, 42)  # the thread pool and allocator, warmed
before = process.memory_info().rss
thread = threading.Thread(target=sample)
thread.start()
fit_recommender("item_knn", frame, {{"neighbors": 50}}, 42)
done.set()
thread.join()
print(json.dumps({{"interactions_bytes": int(frame.memory_usage(deep=True).sum()), "before": before, "peak": peak[0]}}))
"""


def interactions(seed: int = SEED) -> pd.DataFrame:
    """USERS x PER_USER distinct (user, item) pairs: a taste group per user, and popularity."""
    rng = np.random.default_rng(seed)
    popularity = 1 / np.arange(1, ITEMS + 1) ** 0.8
    popularity = rng.permutation(popularity / popularity.sum())
    groups = rng.permutation(ITEMS).reshape(GROUPS, ITEMS // GROUPS)
    users, items = [], []
    for user in range(USERS):
        group = groups[rng.integers(GROUPS)]
        liked = rng.choice(group, int(PER_USER * 0.7), replace=False)
        others = rng.choice(ITEMS, PER_USER * 2, p=popularity)
        others = np.setdiff1d(np.unique(others), liked)[: PER_USER - len(liked)]
        chosen = rng.permutation(np.concatenate([liked, others]))  # bought in any order: the latest held out
        users.append(np.full(len(chosen), user))
        items.append(chosen)
    user, item = np.concatenate(users), np.concatenate(items)
    return pd.DataFrame({"basket": user, "department": item, "time": np.arange(len(user))})


def percentiles(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    return statistics.median(ordered), ordered[int(len(ordered) * 0.99) - 1]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        project = bake(scratch, project_name="Big Shop", dataset="supermarket")
        package = "big_shop"
        run = Runner(project)
        frame = interactions()
        frame.to_csv(project / "data" / "raw" / "supermarket.csv", index=False)
        params = yaml.safe_load((project / "params.yaml").read_text())
        params["data"]["interactions"]["time"] = "time"
        params["data"]["items"] = None
        (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
        stage = [str(project / "bin" / "python"), "-m"]
        prepare_s = timed(lambda: run(*stage, f"{package}.prepare"))
        train_out: list[str] = []
        train_s = timed(lambda: train_out.append(run(*stage, f"{package}.train")))
        memory = json.loads(run(str(BIN / "python"), "-c", FIT_MEMORY.format(package=package)))
        manifest = json.loads((project / "models" / "model.json").read_text())

        port = free_port()
        env = run.env | {
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DJANGO_SECURE_SSL_REDIRECT": "off",
            "DJANGO_STATIC_ROOT": str(scratch / "static"),
            "DATABASE_URL": f"sqlite:///{scratch / 'db.sqlite3'}",
            "PROMETHEUS_MULTIPROC_DIR": str(scratch / "metrics"),
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "WEB_CONCURRENCY": "2",
        }
        rng = np.random.default_rng(SEED)
        known = frame["department"].unique()
        times: dict[str, list[float]] = {"similar": [], "health": []}
        probe = ("/api/recommend", json.dumps({"user": 0}).encode())
        command = [str(project / "start.sh"), "--access-logfile", "/dev/null"]
        with ExitStack() as servers:
            servers.enter_context(server(command, project, env, port, probe))
            for _ in range(ROUNDS):
                for item in rng.choice(known, REQUESTS):
                    times["similar"].append(timed(lambda item=item: get(port, f"/api/items/{item}/similar?k=10")) * 1e3)
                times["health"] += [timed(lambda: get(port, "/api/health")) * 1000 for _ in range(REQUESTS)]
            answer = json.loads(get(port, f"/api/items/{known[0]}/similar?k=10"))
    assert answer["fallback"] is None and len(answer["items"]) == 10, answer
    (similar_p50, similar_p99), (health_p50, health_p99) = percentiles(times["similar"]), percentiles(times["health"])
    interactions_mb = memory["interactions_bytes"] / 2**20
    fit_mb, peak_mb = (memory["peak"] - memory["before"]) / 2**20, memory["peak"] / 2**20
    k = manifest["recommender"]["k"]
    figures: dict[str, Any] = {
        "machine": MACHINE,
        "interactions": len(frame),
        "users": USERS,
        "items": ITEMS,
        "prepare_s": round(prepare_s, 2),
        "train_s": round(train_s, 2),
        "fit_memory_mb": round(fit_mb, 1),
        "interactions_mb": round(interactions_mb, 1),
        "memory_ratio": round(fit_mb / interactions_mb, 2),
        "process_peak_mb": round(peak_mb, 1),
        "metrics": {name: manifest["metrics"][name] for name in (f"ndcg_at_{k}", f"popularity_ndcg_at_{k}")},
        "similar_p50_ms": round(similar_p50, 3),
        "similar_p99_ms": round(similar_p99, 3),
        "health_p50_ms": round(health_p50, 3),
        "health_p99_ms": round(health_p99, 3),
        "similar_vs_health": round(similar_p50 / health_p50, 2),
        "goals": GOALS,
    }

    def verdict(value: float, goal: float) -> str:
        return "met" if value <= goal else "missed"

    table = "\n".join([
        f"1,000,000 interactions ({USERS:,} users, {ITEMS:,} items) in the supermarket bake, train.model: item_knn "
        f"(50 neighbours); gunicorn 2 sync workers through start.sh; {MACHINE}.",
        "",
        "| goal | measured | target | |",
        "|---|---|---|---|",
        f"| `train` stage, wall-clock | {train_s:.1f} s (`prepare` {prepare_s:.1f} s; ndcg@{k} "
        f"{figures['metrics'][f'ndcg_at_{k}']} vs popularity {figures['metrics'][f'popularity_ndcg_at_{k}']}) "
        f"| < 60 s | {verdict(train_s, GOALS['train_s'])} |",
        f"| memory of the fit above the loaded process / the interactions' size | {fit_mb:.0f} MB / "
        f"{interactions_mb:.0f} MB = {figures['memory_ratio']}x (process peak {peak_mb:.0f} MB) | < 3x | "
        f"{verdict(figures['memory_ratio'], GOALS['memory_ratio'])} |",
        f"| `GET /api/items/{{item}}/similar?k=10` p50 vs `GET /api/health` p50 | {similar_p50:.3f} vs "
        f"{health_p50:.3f} ms = {figures['similar_vs_health']}x (p99 {similar_p99:.3f} vs {health_p99:.3f} ms) "
        f"| <= 1.5x | {verdict(figures['similar_vs_health'], GOALS['similar_vs_health'])} |",
    ])  # fmt: skip
    write_figures("recommend", figures, table)
    print(train_out[0].strip().splitlines()[-1], file=sys.stderr)


if __name__ == "__main__":
    main()
