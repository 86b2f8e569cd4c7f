"""Write the `docstrings` demo data: the opening paragraphs of scikit-learn's public docstrings, by submodule.

Run once with the dev venv (`.venv/bin/python scripts/make_docstrings_dataset.py`); the output is
committed in the template, so a bake needs no scikit-learn. Rows are sorted, so a rerun with the
same scikit-learn writes the same file.
"""

import csv
import importlib
import inspect
import re
import sys
from importlib.metadata import distribution, version
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parent.parent / "{{cookiecutter.project_slug}}" / "data" / "raw"
SUBMODULES = (
    "cluster",
    "decomposition",
    "ensemble",
    "feature_selection",
    "linear_model",
    "metrics",
    "model_selection",
    "preprocessing",
)
# A numpydoc section header ("Parameters" over "----------") ends the free text of a docstring.
SECTION = re.compile(r"\n\s*[A-Z][A-Za-z ]+\n\s*-{3,}\s*\n")
MAX_CHARS = 600
ATTRIBUTION = """\
data/raw/docstrings.csv: the opening paragraphs of the public docstrings of scikit-learn {version}
(https://scikit-learn.org), written by the scikit-learn developers, labelled by submodule (topic).
Made by the template's scripts/make_docstrings_dataset.py; redistributed under scikit-learn's license:

"""


def opening(doc: str) -> str:
    """The docstring's text before its first numpydoc section, on one line, cut at MAX_CHARS."""
    text = SECTION.split(inspect.cleandoc(doc), maxsplit=1)[0]
    text = re.sub(r"\.\. \w+::.*", "", text)  # reST directives (versionadded...) are not prose
    text = " ".join(text.split())
    return text[:MAX_CHARS].rsplit(" ", 1)[0] if len(text) > MAX_CHARS else text


def rows() -> list[tuple[str, str]]:
    """(text, topic) for each public object and public method of each submodule, deduplicated by text."""
    found: dict[str, tuple[str, str]] = {}
    for topic in SUBMODULES:
        module = importlib.import_module(f"sklearn.{topic}")
        for name in sorted(getattr(module, "__all__", [])):
            try:
                obj = getattr(module, name)
            except ImportError:  # experimental estimators need an explicit enable_* import
                continue
            members = [obj]
            if inspect.isclass(obj):  # its own public methods, not inherited ones
                methods = sorted(vars(obj).items())
                members += [m for attr, m in methods if not attr.startswith("_") and inspect.isfunction(m)]
            for member in members:
                text = opening(inspect.getdoc(member) or "")
                if len(text.split()) >= 6:  # shorter ones say too little to tag
                    found.setdefault(text, (text, topic))  # a text shared by two topics keeps the first
    return sorted(found.values())


def main() -> int:
    """Write docstrings.csv and print its size and class shares."""
    TEMPLATE.mkdir(parents=True, exist_ok=True)
    table = rows()
    with (TEMPLATE / "docstrings.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "topic"])
        writer.writerows(table)
    license_text = distribution("scikit-learn").read_text("licenses/COPYING") or ""
    (TEMPLATE / "docstrings.LICENSE").write_text(ATTRIBUTION.format(version=version("scikit-learn")) + license_text)
    print(f"{len(table)} rows from scikit-learn {version('scikit-learn')}", file=sys.stderr)
    counts = {topic: sum(row[1] == topic for row in table) for topic in SUBMODULES}
    print(counts, f"majority share {max(counts.values()) / len(table):.3f}", file=sys.stderr)
    return 0 if license_text else 1


if __name__ == "__main__":
    sys.exit(main())
