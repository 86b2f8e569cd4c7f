"""`manage.py predict_file` for a table model: a CSV or Parquet file of rows, or a folder of images, scored."""

from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import ValidationError

from ..data.image_folders import image_files
from ..data.images import load_image, spec_of
from ..data.load import as_categories, read_table
from ..data.validate import separator_hint
from ..errors import DataError
from ..registry.manifest import image_feature
from ..registry.runtime import Runtime
from ..serving import conf
from ..serving.model_store import Served
from ..serving.predictor import NotFinite, predict_images, predict_rows
from ..serving.schemas import field_errors


def score(served: Served, path: Path, csv: dict[str, str], options: dict[str, Any]) -> pd.DataFrame:
    """The file's rows (or the folder's images) with their predictions and class probabilities."""
    if image_feature(served.loaded.manifest["features"]):
        return score_images(served.loaded, path)
    return score_rows(served, read_table(path, csv, "--sep"), path, csv)


def numbers_or_error(column: pd.Series) -> pd.Series:
    """A file's column as numbers; text that is not a number is an error naming its row."""
    numbers = pd.to_numeric(column, errors="coerce")
    bad = column.notna() & numbers.isna()
    if bad.any():
        row = int(bad.to_numpy().argmax())
        raise DataError(f"data row {row + 1}: column {column.name!r} is not a number: {column.iloc[row]!r}")
    return numbers


def score_rows(served: Served, frame: pd.DataFrame, path: Path, csv: dict[str, str]) -> pd.DataFrame:
    """Each row validated as the API validates it (through JSON), then predicted in chunks of SERVING_MAX_ROWS."""
    features = served.loaded.manifest["features"]
    names = [feature["name"] for feature in features]
    missing = [f["name"] for f in features if f["name"] not in frame.columns and not f.get("nullable")]
    if missing:
        hint = separator_hint(frame.columns, csv["sep"], "--sep")  # a CSV read as one column: name its --sep
        raise DataError(f"{path} lacks feature columns: {', '.join(missing)}{hint}")
    frame = frame.reset_index(drop=True)
    for feature in features:
        if feature["kind"] == "number" and feature["name"] in frame.columns:
            frame[feature["name"]] = numbers_or_error(frame[feature["name"]])
        elif feature["kind"] == "text" and feature["name"] in frame.columns:  # "42" is a text; an empty cell ""
            frame[feature["name"]] = frame[feature["name"]].fillna("").map(str)
    # a code the file holds as numbers (data.categorical) is its text, as prepare stored it for training
    frame = as_categories(frame, [f["name"] for f in features if f["kind"] == "category" and f["name"] in frame])
    predictions: list[Any] = []
    probabilities: list[list[float]] = []
    chunk_rows = conf.setting("SERVING_MAX_ROWS")
    # A nullable feature's absent column is missing throughout: left out of the rows, as the API allows.
    present = frame[[name for name in names if name in frame.columns]]
    for start in range(0, len(frame), chunk_rows):
        # Through JSON, so a file gets exactly the API's checks (types, nulls, NaN as null); dates as
        # ISO 8601 text, as a request sends them (a Parquet export holds real datetimes).
        chunk = present.iloc[start : start + chunk_rows].to_json(orient="records", date_format="iso")
        try:
            rows = served.request_model.model_validate_json('{"instances": ' + chunk + "}").instances
        except ValidationError as exc:
            first = field_errors(exc)[0]
            row = first["field"].split("]")[0].split("[")[-1]
            where = f"data row {start + int(row) + 1}" if row.isdigit() else first["field"]
            raise DataError(f"{where}: {first['field']}: {first['message']}") from None
        try:
            result = predict_rows(served.loaded, rows)
        except NotFinite as exc:
            raise DataError(f"data row {start + exc.rows[0] + 1}: {exc}") from None
        predictions += result["predictions"]
        probabilities += result.get("probabilities", [])
    scored = frame.assign(prediction=predictions)
    if probabilities:
        classes = served.loaded.manifest["classes"]
        assert classes is not None  # only a classifier answers with probabilities
        scored = scored.join(pd.DataFrame(probabilities, columns=[f"probability_{c}" for c in classes]))
    return scored


def score_images(loaded: Runtime, folder: Path) -> pd.DataFrame:
    """Each image below `folder` with its prediction and class probabilities; DataError for a bad file."""
    if not folder.is_dir():
        raise DataError(f"{folder} is not a folder: this model reads images, so give a folder of them")
    files = image_files(folder)
    if not files:
        raise DataError(f"{folder} has no image files")
    spec = spec_of(loaded.manifest["features"][0])
    scored = []
    for start in range(0, len(files), chunk := conf.setting("SERVING_MAX_ROWS")):
        batch = files[start : start + chunk]
        result = predict_images(loaded, [load_image(path, spec, path.as_posix()) for path in batch])
        rows = pd.DataFrame({"file": [path.as_posix() for path in batch], "prediction": result["predictions"]})
        if "probabilities" in result:
            assert loaded.manifest["classes"] is not None  # only a classifier answers with probabilities
            classes = [f"probability_{c}" for c in loaded.manifest["classes"]]
            rows = rows.join(pd.DataFrame(result["probabilities"], columns=classes))
        scored.append(rows)
    return pd.concat(scored, ignore_index=True)
