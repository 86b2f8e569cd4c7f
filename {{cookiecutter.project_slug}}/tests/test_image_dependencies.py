"""The image's dependency groups: pinned as the project pins them, and enough for the server that imports them."""

import json
import os
import subprocess
import sys
import tomllib
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from {{ cookiecutter.package_name }}.serving.image import serving_group

PROJECT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((PROJECT / "pyproject.toml").read_text())
TRAINING = {"scikit-learn", "pandas", "pyarrow", "scipy", "joblib", "dvc", "gto", "skl2onnx", "onnx"}


def group(name: str) -> list[str]:
    """A dependency group's requirements, its included groups' too (PEP 735's include-group)."""
    found: list[str] = []
    for entry in PYPROJECT["dependency-groups"][name]:
        found += group(entry["include-group"]) if isinstance(entry, dict) else [entry]
    return found


def closure(requirements: list[str]) -> set[str]:
    """The distributions those requirements install here: theirs, and their dependencies' (markers evaluated)."""
    seen: set[str] = set()
    todo = [Requirement(text) for text in requirements]
    while todo:
        requirement = todo.pop()
        name = canonicalize_name(requirement.name)
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = distribution(requirement.name).requires or []
        except PackageNotFoundError:  # an optional dependency this environment lacks: the image lacks it too
            continue
        for text in requires:
            needed = Requirement(text)
            extras = [*requirement.extras, ""]
            if needed.marker is None or any(needed.marker.evaluate({"extra": extra}) for extra in extras):
                todo.append(needed)
    return seen


def test_every_group_pins_each_library_as_the_project_does() -> None:
    declared = {*PYPROJECT["project"]["dependencies"], *PYPROJECT["project"]["optional-dependencies"]["postgres"]}
    for name in PYPROJECT["dependency-groups"]:
        assert set(group(name)) <= declared, name  # one range per library: the image runs what the tests ran


# The server as gunicorn starts it (config.wsgi loads the model), its endpoints' modules and four WSGI requests
# (Django's test client would import more of its own): what it imported beyond the interpreter's start-up.
SERVER = """
import json, sys
from wsgiref.util import setup_testing_defaults
started = {name.split(".")[0] for name in sys.modules}
from config.wsgi import application
from django.urls import get_resolver
from {{ cookiecutter.package_name }}.serving.model_store import store
get_resolver().url_patterns
store.get().loaded.open()  # as each gunicorn worker does after the fork (onnxruntime: its session)
answers = []
for path in ("/api/health", "/api/model", "/metrics", "/api/openapi.json"):
    environ = {"PATH_INFO": path, "HTTP_HOST": "127.0.0.1"}
    setup_testing_defaults(environ)
    b"".join(application(environ, lambda status, headers: answers.append(int(status.split()[0]))))
imported = {name.split(".")[0] for name in sys.modules} - started
print(json.dumps({"answers": answers, "modules": sorted(imported)}))
"""
# What libraries import only where it is installed (here, not in the image): Django colours its console with
# colorama, and django.test, which django-ninja imports, reaches Jinja2; the pickle's libraries look for pandas'
# pyarrow, scikit-learn's rich progress bars, joblib's psutil and numpy.f2py's charset_normalizer.
OPTIONAL = {"colorama", "jinja2", "markupsafe", "pyarrow", "rich", "psutil", "charset_normalizer"}


{% if cookiecutter.__kind == "table" -%}
@pytest.mark.parametrize("runtime", ["auto", "sklearn"])  # sklearn: the pickle, as a failed ONNX check serves it
{% else -%}
@pytest.mark.parametrize("runtime", ["auto"])
{% endif -%}
def test_the_server_imports_only_what_its_dependency_group_installs(
    trained: Path, tmp_path: Path, runtime: str
) -> None:
    from importlib.metadata import packages_distributions

    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "SERVING_MODEL_PATH": str(trained / "models" / "model.joblib"),
        "SERVING_RUNTIME": runtime,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "PYTHONPATH": os.pathsep.join([str(PROJECT), str(PROJECT / "src")]),
    }
    command = [sys.executable, "manage.py", "migrate", "--noinput"]
    subprocess.run(command, cwd=PROJECT, env=env, check=True, capture_output=True)
    done = subprocess.run([sys.executable, "-c", SERVER], cwd=PROJECT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    served = json.loads(done.stdout.strip().splitlines()[-1])
    assert served["answers"] == [200, 200, 200, 200]
    pickled = runtime == "sklearn" or serving_group(trained / "models" / "model.joblib") == "serve-pickle"
    owners = packages_distributions()
    # pyarrow is optional to the pickle's pandas only: the served runtime must never import it
    modules = set(served["modules"]) - (OPTIONAL if pickled else OPTIONAL - {"pyarrow"})
    used = {canonicalize_name(dist) for module in modules for dist in owners.get(module, [])}
    installed = closure(group("serve-pickle" if pickled else "serve"))
    assert used - installed - {canonicalize_name(PYPROJECT["project"]["name"])} == set()
    assert pickled or not TRAINING & used  # no training library unless the pickle serves
