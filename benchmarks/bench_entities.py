"""Measure the entity tagger's goals on a bake of the news demo, and compare it with spaCy's trainable NER.

- Tagging in process: 100 news-length texts of about 500 words (50,000 words: the demo's held-out
  and training sentences, cycled), tagged by one process on one thread through the verified
  model (registry.artifacts.load_tagger, EntityTagger.tag_texts: tokens, features, crfsuite's
  Viterbi and each entity's confidence), best of 5. Goal: 100 texts (50,000 words) a second.
- Serving: the demo's model behind start.sh (gunicorn, 2 sync workers, production settings),
  rounds of sequential `POST /api/entities` of one demo sentence alternating with
  `GET /api/health` (p50, p99). Goal: entities' p50 within 2x of health's.
- Training: the `train` stage of the demo, wall-clock, and the held-out entity F1 beside the baseline's.
- With SPACY_PYTHON (a Python with spaCy; `make bench` makes .venv-spacy): spaCy's NER on a blank
  English pipeline, trained on the same split (30 epochs, dropout 0.2, minibatches 4 to 32) and
  scored the same way (exact span and label, micro), its training time and its speed on the same
  texts; and the installed size of each library. The choice of a CRF rests on these figures.
Run with `.venv/bin/python benchmarks/bench_entities.py`; writes results/entities.{json,md}.
"""

from __future__ import annotations

import json
import os
import secrets
import statistics
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from bench_serving import free_port, get, post, server
from common import BIN, MACHINE, Runner, bake, timed, write_figures

TEXTS, WORDS_PER_TEXT, REPEATS = 100, 500, 5
ROUNDS, REQUESTS = 6, 250
GOALS = {"words_per_s": 50_000.0, "entities_vs_health": 2.0}

# One process, one thread: what one gunicorn worker does with a batch.
IN_PROCESS = """
import json, sys, time
from {package}.entities.artifact import load_tagger
texts = json.load(open(sys.argv[1]))
tagger = load_tagger().tagger
tagger.tag_texts(texts[:5])  # crfsuite's tagger opened, the word caches warmed by a few texts
times = []
for _ in range({repeats}):
    start = time.perf_counter()
    found = tagger.tag_texts(texts)
    times.append(time.perf_counter() - start)
print(json.dumps({{"seconds": min(times), "entities": sum(map(len, found))}}))
"""

SPACY = """
import os
for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "BLIS_NUM_THREADS"):
    os.environ[name] = "1"
import json, random, sys, time
import pandas as pd, spacy
from spacy.training import Example
from spacy.util import compounding, fix_random_seed, minibatch

def read(path):
    frame = pd.read_parquet(path)
    pairs = zip(frame["text"], frame["entities"])
    return [(text, [tuple(span) for span in json.loads(spans)]) for text, spans in pairs]

train, test, texts = read(sys.argv[1]), read(sys.argv[2]), json.load(open(sys.argv[3]))
fix_random_seed(0)
random.seed(0)
nlp = spacy.blank("en")
ner = nlp.add_pipe("ner")
examples = []
for text, spans in train:
    doc = nlp.make_doc(text)
    doc.ents = [doc.char_span(start, end, label=label, alignment_mode="contract") for start, end, label in spans]
    examples.append(Example(nlp.make_doc(text), doc))
started = time.perf_counter()
optimizer = nlp.initialize(lambda: examples)
for _ in range(30):
    random.shuffle(examples)
    for batch in minibatch(examples, size=compounding(4.0, 32.0, 1.001)):
        nlp.update(batch, drop=0.2, sgd=optimizer)
train_s = time.perf_counter() - started
right = found = annotated = 0
for doc, (_, spans) in zip(nlp.pipe(text for text, _ in test), test):
    predicted = {(e.start_char, e.end_char, e.label_) for e in doc.ents}
    right, found, annotated = right + len(predicted & set(spans)), found + len(predicted), annotated + len(spans)
precision, recall = right / max(found, 1), right / max(annotated, 1)
f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
times = []
for _ in range(3):
    start = time.perf_counter()
    list(nlp.pipe(texts, batch_size=50))
    times.append(time.perf_counter() - start)
best = min(times)
print(json.dumps({"version": spacy.__version__, "train_s": train_s, "f1": f1, "precision": precision,
                  "recall": recall, "seconds": best}))
"""

SIZE = """
import json, sys
from importlib.metadata import distribution, requires
from packaging.requirements import Requirement

def closure(name, seen):
    if name.lower() in seen:
        return
    seen.add(name.lower())
    for requirement in requires(name) or []:
        parsed = Requirement(requirement)
        if parsed.marker is None or parsed.marker.evaluate({"extra": ""}):
            try:
                closure(parsed.name, seen)
            except Exception:
                pass

def size(name):
    files = distribution(name).files or []
    return sum((file.size or 0) for file in files)

result = {}
for name in sys.argv[1:]:
    seen = set()
    closure(name, seen)
    result[name] = {"own_mb": size(name) / 2**20, "with_dependencies_mb": sum(size(n) for n in seen) / 2**20,
                    "dependencies": sorted(seen - {name.lower()})}
print(json.dumps(result))
"""


def news_texts(sentences: list[str]) -> list[str]:
    """TEXTS texts of about WORDS_PER_TEXT words each, the sentences cycled."""
    texts, position = [], 0
    for _ in range(TEXTS):
        words: list[str] = []
        while len(words) < WORDS_PER_TEXT:
            words += sentences[position % len(sentences)].split()
            position += 1
        texts.append(" ".join(words))
    return texts


def percentiles(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    return statistics.median(ordered), ordered[int(len(ordered) * 0.99) - 1]


def main() -> None:
    spacy_python = os.environ.get("SPACY_PYTHON")
    if spacy_python and not Path(spacy_python).is_file():  # make bench's .venv-spacy did not install
        print(f"no spaCy at {spacy_python}: the comparison is left out", file=sys.stderr)
        spacy_python = None
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        project = bake(scratch, project_name="Big Newsroom", dataset="news")
        package = "big_newsroom"
        run = Runner(project)
        stage = [str(project / "bin" / "python"), "-m"]
        run(*stage, f"{package}.prepare")
        train_out: list[str] = []
        train_s = timed(lambda: train_out.append(run(*stage, f"{package}.train")))
        manifest = json.loads((project / "models" / "model.json").read_text())
        prepared = project / "data" / "prepared"
        sentences = [json.loads(line)["text"] for line in (project / "data" / "raw" / "news.jsonl").open()]
        texts = news_texts(sentences)
        words = sum(len(text.split()) for text in texts)
        (scratch / "texts.json").write_text(json.dumps(texts))
        tagged = json.loads(run(str(BIN / "python"), "-c", IN_PROCESS.format(package=package, repeats=REPEATS),
                                str(scratch / "texts.json")))  # fmt: skip
        sizes = json.loads(run(str(BIN / "python"), "-c", SIZE, "python-crfsuite"))
        spacy: dict[str, Any] | None = None
        if spacy_python:
            spacy = json.loads(run(spacy_python, "-c", SPACY, str(prepared / "train.parquet"),
                                   str(prepared / "test.parquet"), str(scratch / "texts.json")))  # fmt: skip
            spacy["words_per_s"] = round(words / spacy.pop("seconds"))
            spacy |= json.loads(run(spacy_python, "-c", SIZE, "spacy"))["spacy"]

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
        body = json.dumps({"texts": [sentences[0]]}).encode()
        times: dict[str, list[float]] = {"entities": [], "health": []}
        command = [str(project / "start.sh"), "--access-logfile", "/dev/null"]
        with ExitStack() as servers:
            servers.enter_context(server(command, project, env, port, ("/api/entities", body)))
            for _ in range(ROUNDS):
                times["entities"] += [timed(lambda: post(port, "/api/entities", body)) * 1e3 for _ in range(REQUESTS)]
                times["health"] += [timed(lambda: get(port, "/api/health")) * 1e3 for _ in range(REQUESTS)]
            answer = json.loads(post(port, "/api/entities", body))
    assert answer["entities"][0], answer
    entities_p50, entities_p99 = percentiles(times["entities"])
    health_p50, health_p99 = percentiles(times["health"])
    metrics = manifest["metrics"]
    crfsuite = sizes["python-crfsuite"]
    figures: dict[str, Any] = {
        "machine": MACHINE,
        "texts": TEXTS,
        "words": words,
        "tag_s": round(tagged["seconds"], 3),
        "texts_per_s": round(TEXTS / tagged["seconds"], 1),
        "words_per_s": round(words / tagged["seconds"]),
        "entities_found": tagged["entities"],
        "entities_p50_ms": round(entities_p50, 3),
        "entities_p99_ms": round(entities_p99, 3),
        "health_p50_ms": round(health_p50, 3),
        "health_p99_ms": round(health_p99, 3),
        "entities_vs_health": round(entities_p50 / health_p50, 2),
        "train_s": round(train_s, 2),
        "f1": metrics["f1"],
        "baseline_f1": metrics["baseline_f1"],
        "crfsuite_mb": round(crfsuite["with_dependencies_mb"], 1),
        "spacy": spacy,
        "goals": GOALS,
    }

    def verdict(value: float, goal: float, higher: bool = False) -> str:
        return "met" if (value >= goal if higher else value <= goal) else "missed"

    rows = [
        f"The news bake's CRF (train.model: crf); {TEXTS} texts of about {WORDS_PER_TEXT} words ({words:,} words); "
        f"gunicorn 2 sync workers through start.sh; {MACHINE}.",
        "",
        "| goal | measured | target | |",
        "|---|---|---|---|",
        f"| tag {TEXTS} news-length texts in one process, one thread | {tagged['seconds']:.2f} s: "
        f"{figures['texts_per_s']} texts/s, {figures['words_per_s']:,} words/s | >= 100 texts/s (50,000 words/s) "
        f"| {verdict(figures['words_per_s'], GOALS['words_per_s'], higher=True)} |",
        f"| `POST /api/entities` (one sentence) p50 vs `GET /api/health` p50 | {entities_p50:.3f} vs "
        f"{health_p50:.3f} ms = {figures['entities_vs_health']}x (p99 {entities_p99:.3f} vs {health_p99:.3f} ms) "
        f"| <= 2x | {verdict(figures['entities_vs_health'], GOALS['entities_vs_health'])} |",
        "",
        "| tagger | entity F1 (held out) | train | tagging | installed |",
        "|---|---|---|---|---|",
        f"| CRF, python-crfsuite {manifest['versions']['python-crfsuite']} | {metrics['f1']:.3f} (baseline "
        f"{metrics['baseline_f1']:.3f}) | {train_s:.1f} s (the stage) | {figures['words_per_s']:,} words/s "
        f"| {crfsuite['with_dependencies_mb']:.1f} MB, no dependencies |",
    ]  # fmt: skip
    if spacy:
        rows.append(
            f"| spaCy {spacy['version']} NER, blank English pipeline, 30 epochs | {spacy['f1']:.3f} | "
            f"{spacy['train_s']:.1f} s (the loop) | {spacy['words_per_s']:,} words/s | "
            f"{spacy['with_dependencies_mb']:.0f} MB with its {len(spacy['dependencies'])} dependencies |"
        )
    write_figures("entities", figures, "\n".join(rows))
    print(train_out[0].strip().splitlines()[-1], file=sys.stderr)


if __name__ == "__main__":
    main()
