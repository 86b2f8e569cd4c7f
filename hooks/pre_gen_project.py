"""Validate the answers before cookiecutter writes anything; exit 1 with one clear line if one is wrong."""

from __future__ import annotations

import json
import keyword
import re
import sys

SUPPORTED_PYTHONS = ("3.11", "3.12", "3.13")

# Names a package must not take: the project's own folders and the libraries it imports.
SHADOWED_NAMES = frozenset(
    {
        *("config", "test", "tests", "src", "docs", "data", "models", "metrics", "plots", "reports"),
        *("dvc", "django", "ninja", "pandas", "numpy", "sklearn", "scipy", "joblib", "yaml", "pyarrow"),
        *("pytest", "ruff", "mkdocs", "pydot", "gunicorn", "whitenoise", "pydantic"),
    }
)

# URL schemes DVC knows as remotes; a plain path (no scheme) is a local remote.
DVC_REMOTE_SCHEMES = frozenset(
    {"s3", "gs", "gcs", "azure", "ssh", "hdfs", "webhdfs", "http", "https", "webdav", "webdavs", "oss", "gdrive"}
)

SLUG_PATTERN = re.compile(r"[a-z][a-z0-9-]*")
PACKAGE_PATTERN = re.compile(r"[a-z_][a-z0-9_]*")


class InvalidAnswer(ValueError):
    """An answer the template cannot bake."""


def validate_slug(slug: str) -> None:
    """A slug is lowercase letters, digits and hyphens, starting with a letter."""
    if not SLUG_PATTERN.fullmatch(slug) or slug.endswith("-"):
        raise InvalidAnswer(
            f"project_slug {slug!r} is invalid: use lowercase letters, digits and hyphens, "
            "starting with a letter (e.g. 'churn-model')"
        )


def validate_package_name(name: str) -> None:
    """A package name is a lowercase identifier that shadows nothing the project imports."""
    if not PACKAGE_PATTERN.fullmatch(name):
        raise InvalidAnswer(
            f"package_name {name!r} is not a valid lowercase Python identifier: "
            "use letters, digits and underscores, not starting with a digit (e.g. 'churn_model')"
        )
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        raise InvalidAnswer(f"package_name {name!r} is a Python keyword: choose another name")
    if name in sys.stdlib_module_names or name in SHADOWED_NAMES:
        raise InvalidAnswer(
            f"package_name {name!r} would shadow the module of the same name "
            "(standard library, a dependency or a project folder): choose another name"
        )


def validate_python_version(version: str) -> None:
    """The Python of CI and Docker is one the project supports."""
    if version not in SUPPORTED_PYTHONS:
        raise InvalidAnswer(
            f"python_version {version!r} is not supported: choose one of {', '.join(SUPPORTED_PYTHONS)}"
        )


def validate_remote(model_storage: str, url: str) -> None:
    """dvc-remote storage needs a URL whose scheme DVC knows (or a local path)."""
    if model_storage != "dvc-remote":
        return
    if not url.strip():
        raise InvalidAnswer(
            "dvc_remote_url is empty: model_storage=dvc-remote needs a remote URL "
            "(e.g. s3://bucket/path, gs://bucket/path, azure://container/path, ssh://host/path or a local path)"
        )
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme and scheme not in DVC_REMOTE_SCHEMES:
        raise InvalidAnswer(
            f"dvc_remote_url {url!r} has a scheme DVC does not know ({scheme!r}): "
            f"use one of {', '.join(sorted(DVC_REMOTE_SCHEMES))} or a local path"
        )


def validate(context: dict) -> None:
    """Check every answer; raise InvalidAnswer naming the first bad field."""
    validate_slug(context["project_slug"])
    validate_package_name(context["package_name"])
    validate_python_version(context["python_version"])
    validate_remote(context["model_storage"], context.get("dvc_remote_url", ""))


def main(context_json: str) -> int:
    """Validate the rendered context; print one line and return 1 when an answer is bad."""
    try:
        validate(json.loads(context_json))
    except InvalidAnswer as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(r"""{{ cookiecutter | tojson }}"""))
