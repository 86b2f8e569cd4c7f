"""The entity tagger (train.task: entities): annotated texts in, entities out, through the same stages and site."""

import json
from pathlib import Path

import pytest
import yaml
from conftest import working_copy

from {{ cookiecutter.package_name }} import prepare, train
from {{ cookiecutter.package_name }}.entities.annotations import read_annotations
from {{ cookiecutter.package_name }}.entities.artifact import load_tagger
from {{ cookiecutter.package_name }}.entities.tokens import tokenize
from {{ cookiecutter.package_name }}.errors import DataError, ModelIntegrityError, PipelineError
from {{ cookiecutter.package_name }}.registry.artifacts import sha256_file
from {{ cookiecutter.package_name }}.report.pages import build_site

PREPARED = ("data/prepared/train.parquet", "data/prepared/test.parquet", "reports/data_profile.json")


@pytest.fixture
def copy(tagger_trained: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the trained tagger's folder, made the working directory."""
    return working_copy(tagger_trained, tmp_path / "copy", monkeypatch)


def annotations_path(folder: Path) -> Path:
    """The file data.entities names in the folder's params.yaml."""
    return folder / yaml.safe_load((folder / "params.yaml").read_text())["data"]["entities"]


def test_the_tagger_beats_the_most_frequent_tag_baseline(tagger_trained: Path) -> None:
    metrics = json.loads((tagger_trained / "metrics" / "metrics.json").read_text())
    manifest = json.loads((tagger_trained / "models" / "model.json").read_text())
    assert metrics["f1"] > metrics["baseline_f1"]
    for label in manifest["tagger"]["labels"]:
        assert 0 <= metrics[f"precision_{label}"] <= 1 and 0 <= metrics[f"baseline_f1_{label}"] <= 1
    assert manifest["metrics"] == metrics  # train scored the same model evaluate read back from crfsuite's file
    assert manifest["task"] == "entities" and manifest["features"] == []
    crfsuite = tagger_trained / "models" / "model.crfsuite"
    assert manifest["files"]["model.crfsuite"] == sha256_file(crfsuite)
    examples = json.loads((tagger_trained / "reports" / "entity_examples.json").read_text())
    assert examples and all(example["text"][e["start"] : e["end"]] == e["text"] for example in examples
                            for e in example["found"])  # fmt: skip


def test_the_same_annotations_give_the_same_model_file(copy: Path) -> None:
    before = sha256_file(copy / "models" / "model.crfsuite")
    train.main()
    assert sha256_file(copy / "models" / "model.crfsuite") == before


def test_a_model_file_that_does_not_match_the_manifest_is_refused(copy: Path) -> None:
    crfsuite = copy / "models" / "model.crfsuite"
    crfsuite.write_bytes(crfsuite.read_bytes() + b"\0")
    with pytest.raises(ModelIntegrityError, match="sha256"):
        load_tagger(copy / "models" / "model.joblib")


def test_entities_are_spans_of_the_text_whatever_its_script(tagger_trained: Path) -> None:
    tagger = load_tagger(tagger_trained / "models" / "model.joblib").tagger
    assert tagger.entities("") == [] and tagger.entities("   \n") == []
    for text in ("Zoë Müller flew from Zürich to Kraków.", "東京 and Ōsaka met São Paulo", "a" * 20_000):
        for entity in tagger.entities(text):
            assert text[entity["start"] : entity["end"]] == entity["text"]
            assert 0 <= entity["confidence"] <= 1 and entity["label"] in tagger.labels


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ({"text": "Ada Lovelace met Babbage", "label": [[0, 12, "PER"], [4, 16, "PER"]]}, "overlap"),
        ({"text": "Ada Lovelace", "label": [[0, 40, "PER"]]}, "outside the text"),
        ({"text": "Ada Lovelace", "label": [[0, 6, "PER"]]}, r"\[0, 6, 'PER'\] 'Ada Lo' does not fall on token edges"),
        ({"text": "Ada Lovelace", "label": [[0, 3]]}, "is neither"),
        ({"text": 42, "label": []}, '"text" must be a string'),
    ],
    ids=["overlapping", "outside", "not-on-a-token-edge", "no-label", "text-not-a-string"],
)
def test_bad_annotations_are_refused_by_line_and_the_old_outputs_kept(copy: Path, line: dict, message: str) -> None:
    path = annotations_path(copy)
    lines = path.read_text().splitlines()
    number = len(lines) // 2
    lines.insert(number, json.dumps(line))
    path.write_text("\n".join(lines) + "\n")
    before = {name: sha256_file(copy / name) for name in PREPARED}
    with pytest.raises(DataError, match=message) as refused:
        prepare.main()
    assert f"line {number + 1}" in str(refused.value)
    assert {name: sha256_file(copy / name) for name in PREPARED} == before


@pytest.mark.parametrize(
    ("content", "message"),
    [("", "is empty"), ("{not json\n", "line 1 is not valid JSON"), ('{"text": "No names here.", "label": []}\n',
                                                                      "no text has an entity")],
    ids=["empty", "not-json", "no-entities"],
)  # fmt: skip
def test_an_unusable_file_is_refused_and_the_old_outputs_kept(copy: Path, content: str, message: str) -> None:
    annotations_path(copy).write_text(content)
    before = {name: sha256_file(copy / name) for name in PREPARED}
    with pytest.raises(DataError, match=message):
        prepare.main()
    assert {name: sha256_file(copy / name) for name in PREPARED} == before


def test_a_label_with_too_few_examples_is_refused_by_name(copy: Path) -> None:
    path = annotations_path(copy)
    path.write_text(path.read_text() + json.dumps({"text": "The Nile floods.", "label": [[4, 8, "RIVER"]]}) + "\n")
    with pytest.raises(DataError, match=r"too few entities to train and evaluate: RIVER \(1\)"):
        prepare.main()


def test_a_contradictory_task_is_refused(copy: Path) -> None:
    params = yaml.safe_load((copy / "params.yaml").read_text())
    params["train"]["task"] = "classification"
    (copy / "params.yaml").write_text(yaml.safe_dump(params))
    with pytest.raises(PipelineError, match=r"train\.task must be auto or entities"):
        prepare.main()


def test_an_unknown_hyperparameter_is_refused_with_a_hint(copy: Path) -> None:
    params = yaml.safe_load((copy / "params.yaml").read_text())
    params["train"]["hyperparams"] = {"crf": {"max_iteration": 10}}
    (copy / "params.yaml").write_text(yaml.safe_dump(params))
    with pytest.raises(PipelineError, match=r"'max_iteration' is not one of its .*did you mean 'max_iterations'"):
        train.main()


EXPORTS = {
    "doccano.jsonl": '{"text": "Ada Lovelace lived in London.", "label": [[0, 12, "PER"], [22, 28, "LOC"]]}\n',
    "doccano-relations.jsonl": '{"id": 7, "text": "Ada Lovelace lived in London.", "entities": [{"id": 1, '
    '"label": "PER", "start_offset": 0, "end_offset": 12}, {"id": 2, "label": "LOC", "start_offset": 22, '
    '"end_offset": 28}], "relations": []}\n',
    "spacy.jsonl": '{"text": "Ada Lovelace lived in London.", "spans": [{"start": 0, "end": 12, "label": "PER"}, '
    '{"start": 22, "end": 28, "label": "LOC"}]}\n',
    "label-studio-min.json": '[{"text": "Ada Lovelace lived in London.", "label": [{"start": 0, "end": 12, '
    '"text": "Ada Lovelace", "labels": ["PER"]}, {"start": 22, "end": 28, "labels": ["LOC"]}]}]',
    "label-studio.json": '[{"data": {"text": "Ada Lovelace lived in London."}, "annotations": [{"result": ['
    '{"value": {"start": 0, "end": 12, "labels": ["PER"]}}, {"value": {"start": 22, "end": 28, "labels": ["LOC"]}}'
    "]}]}]",
    "conll.bio": "-DOCSTART- O\n\nAda B-PER\nLovelace I-PER\nlived O\nin O\nLondon B-LOC\n. O\n",
}


@pytest.mark.parametrize("name", EXPORTS)
def test_each_annotation_tool_export_reads_as_the_same_spans(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text(EXPORTS[name])
    (text,) = read_annotations(path)
    assert [text.text[start:end] for start, end, _ in text.entities] == ["Ada Lovelace", "London"]
    assert [label for _, _, label in text.entities] == ["PER", "LOC"]


def test_tokens_split_words_from_punctuation_so_names_end_on_an_edge() -> None:
    text = "Lovelace's notes (1843)"
    assert [text[start:end] for start, end in tokenize(text)] == ["Lovelace", "'", "s", "notes", "(", "1843", ")"]


def test_the_site_scores_each_label_and_highlights_held_out_texts(tagger_trained: Path) -> None:
    files = build_site(tagger_trained)
    card, page = str(files["index.md"]), str(files["entities.md"])
    manifest = json.loads((tagger_trained / "models" / "model.json").read_text())
    assert "baseline F1" in card and "load_tagger" in card
    for label in manifest["tagger"]["labels"]:
        assert f"`{label}`" in page
    assert 'class="entity-hit"' in page and "monitoring.md" not in files
    assert "held-out texts" in str(files["data.md"])
