"""The hooks: their functions called directly, and bad answers rejected by a real bake."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest
from cookiecutter.exceptions import FailedHookException
from cookiecutter.main import cookiecutter

from conftest import TEMPLATE


def load_hook(name: str) -> ModuleType:
    """Import a hook script as a module (its Jinja line only runs under __main__)."""
    spec = importlib.util.spec_from_file_location(name, TEMPLATE / "hooks" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


pre_gen = load_hook("pre_gen_project")
post_gen = load_hook("post_gen_project")
DEFAULTS = json.loads((TEMPLATE / "cookiecutter.json").read_text())


@pytest.mark.parametrize("slug", ["churn-model", "m2", "a-b-c"])
def test_good_slugs_pass(slug: str) -> None:
    pre_gen.validate_slug(slug)


@pytest.mark.parametrize("slug", ["My-Project", "2fast", "-x", "x-", "with space", "under_score", ""])
def test_bad_slugs_are_rejected(slug: str) -> None:
    with pytest.raises(pre_gen.InvalidAnswer, match="project_slug"):
        pre_gen.validate_slug(slug)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("9lives", "not a valid lowercase Python identifier"),
        ("my-pkg", "not a valid lowercase Python identifier"),
        ("MyPkg", "not a valid lowercase Python identifier"),
        ("class", "is a Python keyword"),
        ("match", "is a Python keyword"),
        ("json", "would shadow"),
        ("test", "would shadow"),
        ("pandas", "would shadow"),
        ("sklearn", "would shadow"),
        ("django", "would shadow"),
        ("dvc", "would shadow"),
        ("config", "would shadow"),
    ],
)
def test_bad_package_names_are_rejected(name: str, reason: str) -> None:
    with pytest.raises(pre_gen.InvalidAnswer, match=reason):
        pre_gen.validate_package_name(name)


def test_python_versions() -> None:
    for version in ("3.11", "3.12", "3.13"):
        pre_gen.validate_python_version(version)
    with pytest.raises(pre_gen.InvalidAnswer, match=r"python_version '3\.10' is not supported"):
        pre_gen.validate_python_version("3.10")


@pytest.mark.parametrize(
    "url", ["s3://bucket/models", "gs://b/p", "azure://c/p", "ssh://host/srv/dvc", "/mnt/dvc", "../store"]
)
def test_known_remotes_pass(url: str) -> None:
    pre_gen.validate_remote("dvc-remote", url)


@pytest.mark.parametrize(
    ("url", "reason"), [("", "dvc_remote_url is empty"), ("ftp://host/x", "scheme DVC does not know")]
)
def test_bad_remotes_are_rejected(url: str, reason: str) -> None:
    with pytest.raises(pre_gen.InvalidAnswer, match=reason):
        pre_gen.validate_remote("dvc-remote", url)


def test_a_remote_url_is_not_needed_for_git_storage() -> None:
    pre_gen.validate_remote("git", "")


def test_main_prints_one_line_and_returns_1(capsys: pytest.CaptureFixture[str]) -> None:
    context = {"project_slug": "ok", "package_name": "pandas", "python_version": "3.12", "model_storage": "git"}
    assert pre_gen.main(json.dumps(context)) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("ERROR: package_name 'pandas' would shadow")


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"project_slug": "Bad Slug"}, "project_slug 'Bad Slug' is invalid"),
        ({"package_name": "test"}, "package_name 'test' would shadow"),
        ({"package_name": "import"}, "package_name 'import' is a Python keyword"),
        ({"package_name": "1st"}, "package_name '1st' is not a valid lowercase Python identifier"),
        ({"python_version": "3.9"}, "python_version '3.9' is not supported"),
        ({"model_storage": "dvc-remote"}, "dvc_remote_url is empty"),
        (
            {"model_storage": "dvc-remote", "dvc_remote_url": "ftp://x/y"},
            "dvc_remote_url 'ftp://x/y' has a scheme DVC does not know",
        ),
    ],
)
def test_a_bad_answer_fails_the_bake_and_leaves_nothing(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], answers: dict[str, str], message: str
) -> None:
    with pytest.raises(FailedHookException):
        cookiecutter(str(TEMPLATE), no_input=True, extra_context=answers, output_dir=str(tmp_path))
    errors = [line for line in capfd.readouterr().err.splitlines() if line.startswith("ERROR")]
    assert len(errors) == 1 and errors[0].startswith(f"ERROR: {message}")
    assert list(tmp_path.iterdir()) == []


def test_remove_sample_data_removes_empty_folders(tmp_path: Path) -> None:
    (tmp_path / "data" / "raw").mkdir(parents=True)
    (tmp_path / "data" / "raw" / "data.csv").write_text("a,b\n")
    (tmp_path / "data" / "raw" / "docstrings.csv").write_text("text,topic\n")
    post_gen.remove_sample_data(tmp_path, "wine")
    assert not (tmp_path / "data").exists()


def test_remove_sample_data_keeps_the_chosen_datasets_files(tmp_path: Path) -> None:
    raw = tmp_path / "data" / "raw"
    raw.mkdir(parents=True)
    for name in ("data.csv", "docstrings.csv", "docstrings.LICENSE"):
        (raw / name).write_text("x\n")
    post_gen.remove_sample_data(tmp_path, "docstrings")
    assert sorted(path.name for path in raw.iterdir()) == ["docstrings.LICENSE", "docstrings.csv"]


@pytest.mark.parametrize("kind", ["table", "recommend", "entities"])
def test_remove_kind_drops_its_folder_tests_and_example_app_pieces_and_nothing_else(tmp_path: Path, kind: str) -> None:
    package = tmp_path / "src" / "pkg"
    paths = {
        name.format(package="pkg")
        for other in post_gen.KIND_PATHS
        for name in (f"src/{{package}}/{other}/__init__.py", *post_gen.KIND_PATHS[other])
    }
    for name in paths:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x\n")
    (package / "kinds.py").write_text("x\n")
    post_gen.REMOVE_KIND[kind](tmp_path, "pkg")
    assert not (package / kind).exists()
    assert not any((tmp_path / name.format(package="pkg")).exists() for name in post_gen.KIND_PATHS[kind])
    others = [other for other in post_gen.KIND_PATHS if other != kind]
    assert all((package / other).is_dir() for other in others) and (package / "kinds.py").is_file()


def test_a_taggers_records_keep_their_entities_column(tmp_path: Path) -> None:
    migration = tmp_path / post_gen.NO_ENTITIES_MIGRATION.format(package="pkg")
    migration.parent.mkdir(parents=True)
    migration.write_text("x\n")
    post_gen.keep_entities_column(tmp_path, "pkg")
    assert not migration.exists()


@pytest.mark.parametrize("license_name", DEFAULTS["license"])
def test_remove_license_choices_keeps_the_chosen_text(tmp_path: Path, license_name: str) -> None:
    (tmp_path / "licenses").mkdir()
    for name in DEFAULTS["license"]:
        (tmp_path / "licenses" / name).write_text(name)
    post_gen.remove_license_choices(license_name, tmp_path)
    assert (tmp_path / "LICENSE").read_text() == license_name
    assert not (tmp_path / "licenses").exists()


def test_init_git_says_how_when_git_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(post_gen.shutil, "which", lambda name: None)
    assert post_gen.init_git(tmp_path) is False
    assert "git init -b main" in capsys.readouterr().out
    assert not (tmp_path / ".git").exists()


def test_init_dvc_defers_to_make_install_without_dvc(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(post_gen, "dvc_command", lambda: None)
    assert post_gen.init_dvc(tmp_path, "git", "") is False
    assert "make install" in capsys.readouterr().out


def test_a_remote_template_is_recorded_by_its_full_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PWD", str(tmp_path))
    context = {"_template": "gh:acme/ml-template", "_repo_dir": str(tmp_path / "not-a-clone"), "dataset": "wine"}
    assert post_gen.template_source(context) == ("https://github.com/acme/ml-template.git", None)


def test_a_local_template_is_recorded_by_its_absolute_path_and_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PWD", str(TEMPLATE.parent))  # where `cookiecutter main` was typed
    context = {"_template": TEMPLATE.name, "_repo_dir": TEMPLATE.name, "_checkout": None, "dataset": "wine",
               "__kind": "table"}  # fmt: skip
    post_gen.record_template(context, tmp_path)
    cruft = json.loads((tmp_path / ".cruft.json").read_text())
    assert cruft["template"] == str(TEMPLATE) and len(cruft["commit"]) == 40
    recorded = {"dataset": "wine", "_template": str(TEMPLATE), "_commit": cruft["commit"]}
    assert cruft["context"]["cookiecutter"] == recorded
    replay = {"dataset": "wine", "__kind": "table"}  # the derived kind too: a replay renders nothing
    assert json.loads((tmp_path / ".cookiecutter-replay.json").read_text()) == {"cookiecutter": replay}
    assert "recorded the template" in capsys.readouterr().out
