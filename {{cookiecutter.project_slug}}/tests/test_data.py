"""The raw data checks: each bad input stops with a message that names the problem."""

from pathlib import Path

import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.data.dates import as_dates
from {{ cookiecutter.package_name }}.data.dtypes import compact
from {{ cookiecutter.package_name }}.data.load import load_dataset, read_table
from {{ cookiecutter.package_name }}.data.prepared import check_tracked
from {{ cookiecutter.package_name }}.data.validate import validate
from {{ cookiecutter.package_name }}.errors import DataError, PipelineError


def frame(**columns: list) -> pd.DataFrame:
    """A small frame with a usable target unless the test overrides it."""
    return pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "y": ["a", "b", "a", "b"], **columns})


def test_a_good_frame_passes() -> None:
    validate(frame(), "y", [])


@pytest.mark.parametrize(
    ("data", "target", "message"),
    [
        (frame(), "label", "target column 'label' not found"),
        (frame(y=["a", None, "b", "a"]), "y", "target column 'y' has 1 missing value "),
        (frame(y=["a", "a", "a", "a"]), "y", "target column 'y' has a single value"),
        (frame().iloc[0:0], "y", "the data has no rows"),
        (frame()[["y"]], "y", "no feature columns"),
    ],
)
def test_bad_frames_are_named(data: pd.DataFrame, target: str, message: str) -> None:
    with pytest.raises(DataError, match=message):
        validate(data, target, [])


def test_junk_in_a_numeric_column_is_named() -> None:
    numbers = [str(i) for i in range(20)]
    numbers[7] = "n/a"
    expected = r"column 'x' is numeric but has 1 non-numeric value \(first: 'n/a' at data row 8\)"
    with pytest.raises(DataError, match=expected):
        validate(pd.DataFrame({"x": numbers, "y": ["a", "b"] * 10}), "y", [])


def test_a_column_of_mixed_codes_is_a_category() -> None:
    validate(frame(x=["1", "2", "A7", "B9"]), "y", [])


def test_declared_categorical_columns_are_not_numeric_junk() -> None:
    numbers = [str(i) for i in range(19)] + ["other"]
    validate(pd.DataFrame({"x": numbers, "y": ["a", "b"] * 10}), "y", ["x"])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "data file not found"),
        (b"", "data file is empty"),
        (b"\n\n", "data file has no columns"),
        (b'a,b\n1,"unterminated\n', "cannot parse"),
        (b"\xff\xfe\x00\x81garbage\x00\x9f", "cannot parse"),
    ],
)
def test_unreadable_files_are_named(tmp_path: Path, content: bytes | None, message: str) -> None:
    path = tmp_path / "data.csv"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(DataError, match=message):
        read_table(path)


def test_a_parquet_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "data.parquet"
    frame().to_parquet(path)
    loaded = load_dataset({"path": str(path), "target": "y", "categorical": []})
    assert list(loaded.columns) == ["x", "y"]


def test_junk_late_in_a_compressed_csv_is_named(tmp_path: Path) -> None:
    numbers = [str(i) for i in range(40)]
    numbers[33] = "oops"
    path = tmp_path / "data.csv.gz"
    pd.DataFrame({"x": numbers, "y": ["a", "b"] * 20}).to_csv(path, index=False)
    with pytest.raises(DataError, match=r"column 'x' is numeric .* \(first: 'oops' at data row 34\)"):
        load_dataset({"path": str(path), "target": "y", "categorical": []})


def test_an_unused_category_is_not_numeric_junk(tmp_path: Path) -> None:
    codes = pd.Categorical([str(i) for i in range(20)], categories=[*map(str, range(20)), "unknown"])
    validate(pd.DataFrame({"x": codes, "y": ["a", "b"] * 10}), "y", [])


def test_compact_stores_small_dtypes_and_leaves_the_target() -> None:
    data = pd.DataFrame({"n": [1, 2, 300], "f": [0.5, None, 2.0], "t": ["a", None, "b"], "y": ["p", "q", "p"]})
    compacted = compact(data, "y")
    assert compacted.dtypes.astype(str).drop("y").to_dict() == {"n": "int16", "f": "float32", "t": "category"}
    assert compacted["y"].dtype == data["y"].dtype and compacted["t"].isna().tolist() == [False, True, False]
    assert compact(data, "y", float32=False)["f"].dtype == "float64"


def test_a_data_file_outside_the_prepare_deps_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data" / "raw").mkdir(parents=True)
    (tmp_path / "data" / "raw" / "own.csv").write_text("x,y\n1,a\n")
    dvc_file = tmp_path / "dvc.yaml"
    for dep in ("src/data.py", "data/raw2", "data/raw/other.csv"):
        dvc_file.write_text(f"stages:\n  prepare:\n    deps:\n      - {dep}\n")
        for path in ("data/raw/own.csv", "./data/raw/own.csv", str(tmp_path / "data" / "raw" / "own.csv")):
            with pytest.raises(PipelineError, match=r"data\.path .*own\.csv is not a dependency of the prepare stage"):
                check_tracked(path, dvc_file)
    for dep in ("${data.path}", "data/raw/own.csv", "./data/raw", "data"):
        dvc_file.write_text(f"stages:\n  prepare:\n    deps:\n      - {dep}\n")
        check_tracked("data/raw/own.csv", dvc_file)
    for text in ("", "stages:\n  train:\n    cmd: x\n"):  # no pipeline to compare with: nothing to refuse
        dvc_file.write_text(text)
        check_tracked("data/raw/own.csv", dvc_file)
    check_tracked("data/raw/missing.csv", dvc_file)  # load_dataset names a missing file


def test_iso_dates_become_datetimes_and_a_stray_or_unreal_one_is_named_by_its_row() -> None:
    days = [f"2024-03-{day:02d}" for day in range(1, 21)]
    parsed = as_dates(pd.DataFrame({"ordered": days, "y": ["a", "b"] * 10}), skip=["y"])
    assert pd.api.types.is_datetime64_any_dtype(parsed["ordered"]) and parsed["y"].tolist()[:2] == ["a", "b"]
    stray = [*days[:4], "05.03.2024", *days[5:]]  # as a spreadsheet writes one date
    with pytest.raises(DataError, match=r"column 'ordered' holds ISO 8601 dates but for data row 5: '05\.03\.2024'; "):
        as_dates(pd.DataFrame({"ordered": stray}), skip=[])
    unreal = [None, *days[1:9], "2024-02-30", *days[10:]]
    with pytest.raises(DataError, match=r"but data row 10 is no real date: '2024-02-30'; fix it, or list the column"):
        as_dates(pd.DataFrame({"ordered": unreal}), skip=[])
    words = ["late", "2024-03-01"] * 10  # not mostly dates: a text column, left as it is
    assert as_dates(pd.DataFrame({"note": words}), skip=[])["note"].tolist() == words


def test_a_semicolon_csv_with_decimal_commas_is_read_with_its_options(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text("x;y\n1,5;a\n2,25;b\n3,0;a\n4,75;b\n")
    with pytest.raises(DataError, match=r'the file looks separated by ";": set data\.sep: ";"'):
        load_dataset({"path": str(path), "target": "y", "categorical": []})
    with pytest.raises(DataError, match=r'data\.drop names columns .*: x;y \(one column: .* set data\.sep: ";"\)'):
        load_dataset({"path": str(path), "target": "y", "drop": ["x"], "categorical": []})
    with pytest.raises(DataError, match=r'column \'x\' holds numbers written with commas .* set data\.decimal: ","; '):
        load_dataset({"path": str(path), "sep": ";", "target": "y", "categorical": []})
    loaded = load_dataset({"path": str(path), "sep": ";", "decimal": ",", "target": "y", "categorical": []})
    assert loaded["x"].tolist() == [1.5, 2.25, 3.0, 4.75]


def test_a_header_in_another_separator_is_named_when_the_rows_do_not_parse(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text("a\tb\ty\n1\t2\tx\n3\t4,5,6\tz\n")
    with pytest.raises(DataError, match=r'cannot parse .* the file looks separated by "\\t": set data\.sep: "\\t"'):
        load_dataset({"path": str(path), "target": "y", "categorical": []})


def test_decimal_comma_numbers_with_junk_are_junk(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text("x;y\n" + "".join(f"{i},5;{'ab'[i % 2]}\n" for i in range(30)) + "?;a\n")
    with pytest.raises(DataError, match=r"column 'x' is numeric but has 1 non-numeric value \(first: '\?'"):
        load_dataset({"path": str(path), "sep": ";", "decimal": ",", "target": "y", "categorical": []})


def test_comma_lists_and_parquet_text_stay_categories(tmp_path: Path) -> None:
    lists = pd.DataFrame({"x": ["1,2,3", "4,5,6", "7,8,9", "1,5,9"], "y": ["a", "b", "a", "b"]})
    lists.to_csv(tmp_path / "lists.csv", index=False)
    assert load_dataset({"path": str(tmp_path / "lists.csv"), "target": "y", "categorical": []})["x"].nunique() == 4
    commas = pd.DataFrame({"x": pd.Categorical(["1,5", "2,5", "3,5", "4,5"]), "y": ["a", "b", "a", "b"]})
    commas.to_parquet(tmp_path / "commas.parquet")
    loaded = load_dataset({"path": str(tmp_path / "commas.parquet"), "target": "y", "categorical": []})
    assert loaded["x"].tolist() == ["1,5", "2,5", "3,5", "4,5"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"sep": ";;"}, r'data\.sep must be one character, such as ",", ";" or "\\t" \(a tab\), not \';;\''),
        ({"decimal": ""}, r'data\.decimal must be one character, such as "\." or ",", not \'\''),
        ({"sep": ",", "decimal": ","}, r"data\.sep and data\.decimal are both ','"),
    ],
)
def test_bad_csv_options_are_named(tmp_path: Path, options: dict, message: str) -> None:
    path = tmp_path / "data.csv"
    frame().to_csv(path, index=False)
    with pytest.raises(DataError, match=message):
        load_dataset({"path": str(path), "target": "y", "categorical": [], **options})
