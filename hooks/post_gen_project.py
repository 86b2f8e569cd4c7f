"""Remove the parts the answers did not choose, then initialise git and DVC in the new project."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

LICENSES_DIR = Path("licenses")
SAMPLE_DATA = Path("data/raw/data.csv")
# The sample files each dataset choice keeps; every other file of data/raw is dropped.
SAMPLE_FILES = {
    "csv": ("data.csv",),
    "docstrings": ("docstrings.csv", "docstrings.LICENSE"),
    "digits": ("digits.zip", "digits.LICENSE"),
    "images": ("images",),
    "supermarket": ("supermarket.csv", "supermarket_items.csv", "supermarket.LICENSE"),
    "news": ("news.jsonl", "news.LICENSE"),
}
# A recommender or an entity tagger has no features whose drift the daily monitor could judge
# (README: "Watch the served model").
MONITORING_PATHS = (".github/workflows/monitor.yml",)
# What each task kind owns beyond its folder src/<package>/<kind>/: its tests and its example-app
# pieces. A bake keeps the kind its dataset chose (cookiecutter.json's __kind) and drops the others.
KIND_PATHS = {
    "table": (
        "tests/test_autolabel.py",
        "tests/test_data.py",
        "tests/test_features.py",
        "tests/test_log_spool.py",
        "tests/test_models.py",
        "tests/test_monitoring.py",
        "tests/test_pipeline.py",
        "tests/test_report.py",
        "tests/test_report_monitoring.py",
        "tests/test_serving_api.py",
        "tests/test_serving_commands.py",
        "tests/test_serving_deploy.py",
        "tests/test_serving_images.py",
        "tests/test_serving_runtime.py",
        "deploy/kubernetes/base/monitor-cronjob.yaml",  # the monitor judges a table model's served rows
    ),
    "recommend": (
        "tests/test_recommend.py",
        "tests/test_serving_recommend.py",
        "src/{package}/autolabel/templatetags",  # the you_may_also_like tag and the example item page
        "src/{package}/autolabel/templates",
        "src/{package}/autolabel/views.py",
    ),
    "entities": (
        "tests/test_entities.py",
        "tests/test_serving_entities.py",
    ),
}
# The digits demo ships as one archive of PNGs (the bake has no scikit-learn to draw them), unpacked here.
DIGITS_ARCHIVE = Path("data/raw/digits.zip")
DJANGO_PATHS = (
    "manage.py",
    "config",
    "gunicorn.conf.py",
    "start.sh",
    "Dockerfile",
    ".dockerignore",
    "docs/django-site.md",
    ".github/workflows/monitor.yml",
    "src/{package}/serving",
    "src/{package}/registry/runtime.py",
    "src/{package}/autolabel",
    "src/{package}/gitops/monitor_issue.py",
    "src/{package}/monitoring",
    "src/{package}/report/monitoring.py",
    "tests/test_autolabel.py",
    "tests/test_log_spool.py",
    "tests/test_monitoring.py",
    "tests/test_report_monitoring.py",
    "tests/test_image_dependencies.py",
    "tests/test_serving_api.py",
    "tests/test_serving_commands.py",
    "tests/test_serving_deploy.py",
    "tests/test_serving_images.py",
    "tests/test_serving_entities.py",
    "tests/test_serving_recommend.py",
    "tests/test_serving_runtime.py",
    "src/{package}/table/pickled.py",
    "src/{package}/table/runtime.py",  # each kind's runtime, endpoints, example-app use and predict_file
    "src/{package}/table/router.py",
    "src/{package}/table/example.py",
    "src/{package}/table/batch.py",
    "src/{package}/recommend/runtime.py",
    "src/{package}/recommend/router.py",
    "src/{package}/recommend/example.py",
    "src/{package}/recommend/batch.py",
    "src/{package}/recommend/answers.py",
    "src/{package}/entities/runtime.py",
    "src/{package}/entities/router.py",
    "src/{package}/entities/example.py",
    "src/{package}/entities/batch.py",
    "src/{package}/entities/answers.py",
    "deploy",  # alert rules and a dashboard of the server's /metrics: no server, nothing to alert on or deploy
)


def remove_license_choices(chosen: str, project: Path) -> None:
    """Keep the chosen license as LICENSE and drop the other texts."""
    (project / LICENSES_DIR / chosen).replace(project / "LICENSE")
    shutil.rmtree(project / LICENSES_DIR)


def remove_sample_data(project: Path, dataset: str) -> None:
    """Drop the sample files the dataset does not read: bundled scikit-learn data sets need none."""
    keep = SAMPLE_FILES.get(dataset, ())
    for path in (project / SAMPLE_DATA.parent).iterdir():
        if path.name in keep:
            continue
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
    for folder in SAMPLE_DATA.parents[:-1]:  # data/raw, then data, when left empty
        if not any((project / folder).iterdir()):
            (project / folder).rmdir()


def unpack_digits(project: Path) -> None:
    """Unpack the digits demo into data/raw/digits/<digit>/, the folder the pipeline reads, and drop the archive."""
    archive = project / DIGITS_ARCHIVE
    if archive.is_file():
        with zipfile.ZipFile(archive) as images:
            images.extractall(archive.parent)
        archive.unlink()


def remove_django(project: Path, package: str) -> None:
    """Drop the Django app, its settings, server and Docker files, and its tests."""
    for name in DJANGO_PATHS:
        path = project / name.format(package=package)
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)


def remove_kind(project: Path, package: str, kind: str) -> None:
    """Drop a task kind: its folder, its tests and its example-app pieces (its deps and params are not rendered)."""
    for name in (f"src/{package}/{kind}", *KIND_PATHS[kind]):
        path = project / name.format(package=package)
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)


def remove_table(project: Path, package: str) -> None:
    """Drop the table kind (classification and regression): a recommender's or a tagger's project."""
    remove_kind(project, package, "table")


def remove_recommend(project: Path, package: str) -> None:
    """Drop the recommend kind: every project but a recommender's."""
    remove_kind(project, package, "recommend")


def remove_entities(project: Path, package: str) -> None:
    """Drop the entities kind: every project but an entity tagger's."""
    remove_kind(project, package, "entities")


REMOVE_KIND = {"table": remove_table, "recommend": remove_recommend, "entities": remove_entities}
# The example app's migration that drops the tagger's `entities` column from the records of every other project.
NO_ENTITIES_MIGRATION = "src/{package}/autolabel/migrations/0003_remove_record_entities.py"


def keep_entities_column(project: Path, package: str) -> None:
    """An entity tagger's records keep the entities it found: drop the migration that removes them elsewhere."""
    (project / NO_ENTITIES_MIGRATION.format(package=package)).unlink(missing_ok=True)


def remove_monitoring(project: Path) -> None:
    """Drop the daily drift workflow: a recommender reads ids, not features to compare with training."""
    for name in MONITORING_PATHS:
        (project / name).unlink(missing_ok=True)


def dvc_command() -> list[str] | None:
    """The DVC command line to use, or None when DVC is not installed here."""
    if exe := shutil.which("dvc"):
        return [exe]
    if importlib.util.find_spec("dvc") is not None:
        return [sys.executable, "-m", "dvc"]
    return None


def run(command: list[str], project: Path) -> bool:
    """Run a setup command quietly; report its first error line and return whether it worked."""
    result = subprocess.run(command, cwd=project, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        print(f"  warning: {' '.join(command[-3:])} failed: {detail[-1] if detail else 'no output'}")
    return result.returncode == 0


def init_git(project: Path) -> bool:
    """`git init -b main` when git is installed; say how to do it by hand otherwise."""
    if shutil.which("git") is None:
        print("  git not found: install git, then run `git init -b main` in the project")
        return False
    if (project / ".git").exists():
        return True
    if run(["git", "init", "-q", "-b", "main"], project):
        print("  initialised a git repository (branch main)")
        return True
    return False


def init_dvc(project: Path, model_storage: str, remote_url: str) -> bool:
    """`dvc init` (and the default remote) when DVC is installed; otherwise `make install` does it."""
    dvc = dvc_command()
    if dvc is None:
        print("  DVC not found here: `make install` installs it and runs `dvc init`")
        return False
    if not (project / ".dvc").exists() and not run([*dvc, "init", "-q"], project):
        return False
    print("  initialised DVC")
    if model_storage == "dvc-remote" and run([*dvc, "remote", "add", "-d", "-f", "storage", remote_url], project):
        print(f"  set the default DVC remote 'storage' to {remote_url}")
    return True


def template_source(context: dict) -> tuple[str, str | None]:
    """Where the template came from (a URL or an absolute path) and its git commit, if it is a clone."""
    from cookiecutter.config import BUILTIN_ABBREVIATIONS
    from cookiecutter.repository import expand_abbreviations, is_repo_url

    template = expand_abbreviations(context["_template"], BUILTIN_ABBREVIATIONS)
    repo_dir = Path(os.environ.get("PWD", "."), context.get("_repo_dir") or template)  # an absolute one wins
    if not is_repo_url(template):
        template = str(repo_dir.resolve())
    commit = subprocess.run(
        ["git", "-C", str(repo_dir), "rev-parse", "HEAD"], capture_output=True, text=True, check=False
    )  # fmt: skip
    return template, (commit.stdout.strip() if commit.returncode == 0 else None)


def record_template(context: dict, project: Path) -> None:
    """Write .cruft.json (for `cruft check/diff/update`) and .cookiecutter-replay.json (for --replay-file)."""
    answers = {key: value for key, value in context.items() if not key.startswith("_")}
    template, commit = template_source(context)
    cruft = {
        "template": template,
        "commit": commit,
        "checkout": context.get("_checkout"),
        "context": {"cookiecutter": {**answers, "_template": template, "_commit": commit}},
        "directory": None,
        "skip": [],
    }
    (project / ".cruft.json").write_text(json.dumps(cruft, indent=2) + "\n")
    # The replay also keeps the derived kind: cookiecutter replays answers as they are and renders nothing.
    replay = answers | {"__kind": context["__kind"]}
    (project / ".cookiecutter-replay.json").write_text(json.dumps({"cookiecutter": replay}, indent=2) + "\n")
    origin = f"{template} at {commit[:12]}" if commit else f"{template} (not a git clone: no commit recorded)"
    print(f"  recorded the template ({origin}) and the answers in .cruft.json")


def main(context_json: str, project: Path) -> int:
    """Finish the generated project in `project` according to the answers."""
    context = json.loads(context_json)
    remove_license_choices(context["license"], project)
    remove_sample_data(project, context["dataset"])
    unpack_digits(project)
    for kind, remove in REMOVE_KIND.items():
        if kind != context["__kind"]:
            remove(project, context["package_name"])
    if context["__kind"] == "entities":
        keep_entities_column(project, context["package_name"])
    if context["use_django"] != "yes":
        remove_django(project, context["package_name"])
    elif context["__kind"] != "table":
        remove_monitoring(project)
    if "_commit" in context:  # cruft renders: it writes .cruft.json itself, in a scratch folder on update
        print("  baked by cruft: `make install` initialises git and DVC")
    else:
        record_template(context, project)
        if init_git(project):
            init_dvc(project, context["model_storage"], context["dvc_remote_url"])
    print(f"\nNext: cd {project.name} && make install && .venv/bin/dvc repro")
    return 0


if __name__ == "__main__":
    sys.exit(main(r"""{{ cookiecutter | tojson }}""", Path.cwd()))
