"""Text and images: the demos' accuracy, and an image upload's latency beside a one-row table predict.

- docstrings: test accuracy of the default text model, beside the majority-class baseline (the share
  of the most frequent topic in the test split);
- digits: test accuracy of the default image model (goal: >= 0.97);
- serving: p50 of POST /api/predict/image with one 64x64 PNG (digits bake), of a one-row text
  POST /api/predict (docstrings bake) and of a one-row table POST /api/predict (default bake), each
  under gunicorn with one worker answering from its ONNX model, requests alternating between them
  (goals: the image upload within 2x of the table row; the text row as fast as the table row).
Run with `make bench`; writes results/inputs.{json,md} and quotes the table in README.md.
"""

from __future__ import annotations

import io
import json
import secrets
import statistics
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

import pandas as pd
from bench_serving import free_port, post, server
from common import BIN, MACHINE, Runner, bake, timed, write_figures
from PIL import Image

REQUESTS = 300
BOUNDARY = "bench-boundary"


def trained(scratch: Path, dataset: str, use_django: str) -> tuple[Path, Runner]:
    """Bake `dataset` and run its pipeline."""
    project = bake(scratch / dataset, dataset=dataset, use_django=use_django)
    run = Runner(project)
    run(str(BIN / "dvc"), "repro")
    return project, run


def accuracy(project: Path) -> dict[str, float]:
    """The test accuracy and the majority-class share of the test split."""
    metrics = json.loads((project / "metrics" / "metrics.json").read_text())
    target = json.loads((project / "models" / "model.json").read_text())["target"]
    labels = pd.read_parquet(project / "data" / "prepared" / "test.parquet", columns=[target])[target]
    return {"accuracy": metrics["accuracy"], "majority_baseline": round(labels.value_counts(normalize=True).iloc[0], 4)}


def multipart(name: str, content: bytes) -> bytes:
    """A multipart/form-data body with one file in the field `image`, as `curl -F image=@name` sends it."""
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="image"; filename="{name}"\r\n'
        "Content-Type: image/png\r\n\r\n"
    )
    return head.encode() + content + f"\r\n--{BOUNDARY}--\r\n".encode()


def upscaled_png(path: Path, side: int = 64) -> bytes:
    """A digit of the project resized to `side` x `side` pixels, as PNG content."""
    buffer = io.BytesIO()
    Image.open(path).resize((side, side)).save(buffer, format="PNG")
    return buffer.getvalue()


def instance(project: Path, target: str) -> bytes:
    """A JSON body with the first test row of a project."""
    test = pd.read_parquet(project / "data" / "prepared" / "test.parquet").drop(columns=target)
    return json.dumps({"instances": json.loads(test.head(1).to_json(orient="records"))}).encode()


def serving_env(run: Runner, project: Path, scratch: Path, port: int) -> dict[str, str]:
    """Production settings for one gunicorn worker on loopback, a database of its own."""
    env = run.env | {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_SECURE_SSL_REDIRECT": "off",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": f"sqlite:///{scratch / (project.parent.name + '.sqlite3')}",
        "WEB_CONCURRENCY": "1",
        "SERVING_RUNTIME": "onnx",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
    }
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], cwd=project, env=env, check=True)
    return env


def main() -> None:
    """Train the three demos, then time the three requests alternately."""
    scratch = Path(tempfile.mkdtemp())
    text, text_run = trained(scratch, "docstrings", "yes")
    digits, digits_run = trained(scratch, "digits", "yes")
    table, table_run = trained(scratch, "breast_cancer", "yes")
    figures: dict = {"machine": MACHINE, "docstrings": accuracy(text), "digits": accuracy(digits)}

    image = ("/api/predict/image", multipart("three.png", upscaled_png(digits / "data/raw/digits/3/0003.png")),
             f"multipart/form-data; boundary={BOUNDARY}")  # fmt: skip
    requests = {
        "image": image,
        "text": ("/api/predict", instance(text, "topic")),
        "row": ("/api/predict", instance(table, "target")),
    }
    gunicorn = [str(BIN / "gunicorn"), "--config", "gunicorn.conf.py", "--access-logfile", "/dev/null"]
    ports = {name: free_port() for name in requests}
    projects = {"image": (digits, digits_run), "text": (text, text_run), "row": (table, table_run)}
    envs = {name: serving_env(run, project, scratch, ports[name]) for name, (project, run) in projects.items()}
    with ExitStack() as stack:
        for name, (project, _) in projects.items():
            stack.enter_context(server(gunicorn, project, envs[name], ports[name], requests[name]))
        times: dict[str, list[float]] = {name: [] for name in requests}
        for _ in range(REQUESTS):  # alternating, so all see the same machine load
            for name, request in requests.items():
                times[name].append(timed(lambda name=name, request=request: post(ports[name], *request)) * 1000)
    p50 = {name: round(statistics.median(values), 2) for name, values in times.items()}
    figures["serving_p50_ms"] = {"image_upload_64px": p50["image"], "text_row": p50["text"], "one_row": p50["row"]}
    figures["image_vs_row"] = round(p50["image"] / p50["row"], 2)
    figures["text_vs_row"] = round(p50["text"] / p50["row"], 2)

    table_md = "\n".join(
        [
            f"Text and images ({MACHINE}; `benchmarks/bench_inputs.py`):",
            "",
            "| figure | value | goal |",
            "|---|---|---|",
            f"| docstrings test accuracy (linear model, TF-IDF) | {figures['docstrings']['accuracy']:.3f} | stated |",
            f"| docstrings majority-class baseline | {figures['docstrings']['majority_baseline']:.3f} | |",
            f"| digits test accuracy (svm on PCA of 8x8 pixels) | {figures['digits']['accuracy']:.3f} | >= 0.97 |",
            f"| p50 of one 64x64 PNG to /api/predict/image | {p50['image']:.2f} ms | |",
            f"| p50 of one docstring (text row) to /api/predict | {p50['text']:.2f} ms | |",
            f"| p50 of one table row to /api/predict | {p50['row']:.2f} ms | |",
            f"| image upload / table row | {figures['image_vs_row']:.2f}x | <= 2x |",
            f"| text row / table row | {figures['text_vs_row']:.2f}x | about 1x |",
        ]
    )
    write_figures("inputs", figures, table_md)


if __name__ == "__main__":
    main()
