"""`manage.py predict_file in.csv out.csv`: batch scoring through the API's validation."""

import json
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd
from django.core.management.base import BaseCommand, CommandError, CommandParser
from pydantic import ValidationError

from ....atomic import atomic_path
from ....data.images import image_files, load_image, spec_of
from ....data.load import as_categories, csv_options, read_table
from ....data.schema import image_feature
from ....data.validate import separator_hint
from ....errors import DataError
from ... import conf
from ...model_store import ModelUnavailable, store
from ...predictor import NotFinite, predict_images, predict_rows
from ...recommend import MAX_K
from ...runtime import RecommenderRunner, Runtime, TaggerRunner
from ...schemas import field_errors


def numbers_or_error(column: pd.Series) -> pd.Series:
    """A file's column as numbers; text that is not a number is an error naming its row."""
    numbers = pd.to_numeric(column, errors="coerce")
    bad = column.notna() & numbers.isna()
    if bad.any():
        row = int(bad.to_numpy().argmax())
        raise CommandError(f"data row {row + 1}: column {column.name!r} is not a number: {column.iloc[row]!r}")
    return numbers


class Command(BaseCommand):
    help = (
        "Score a CSV or Parquet file (or, for an image model, a folder of images) with the served model; "
        "write the rows (or files) with their predictions as CSV."
    )
    # A batch job, not a web server: it needs no DJANGO_SECRET_KEY, which the system checks demand.
    requires_system_checks: ClassVar[list[str]] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("input", type=Path)
        parser.add_argument("output", type=Path)
        parser.add_argument("--sep", default=",", help="the CSV files' column separator (default: ','; a tab: $'\\t')")
        parser.add_argument("--decimal", default=".", help="the CSV files' decimal mark (default: '.')")
        parser.add_argument("--text", default="text", help="an entity tagger: the column of texts (default: text)")
        parser.add_argument("--k", type=int, default=None, help=f"a recommender: items per user (1 to {MAX_K}; "
                                                                "default: train.k)")  # fmt: skip

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            served = store.get()
            csv = csv_options(options["sep"], options["decimal"], prefix="--")
            if isinstance(served.loaded, RecommenderRunner):
                scored = recommend_users(served.loaded, read_table(options["input"], csv, "--sep"), options["k"])
            elif isinstance(served.loaded, TaggerRunner):
                scored = tag_texts(served.loaded, read_table(options["input"], csv, "--sep"), options["text"])
            elif image_feature(served.loaded.manifest["features"]):
                scored = score_images(served.loaded, options["input"])
            else:
                scored = None
                frame = read_table(options["input"], csv, "--sep")
        except (ModelUnavailable, DataError) as exc:
            raise CommandError(str(exc)) from None
        if scored is not None:
            self.write(scored, options["output"], csv, served.loaded)
            return
        features = served.loaded.manifest["features"]
        names = [feature["name"] for feature in features]
        missing = [f["name"] for f in features if f["name"] not in frame.columns and not f.get("nullable")]
        if missing:
            hint = separator_hint(frame.columns, csv["sep"], "--sep")  # a CSV read as one column: name its --sep
            raise CommandError(f"{options['input']} lacks feature columns: {', '.join(missing)}{hint}")
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
                raise CommandError(f"{where}: {first['field']}: {first['message']}") from None
            try:
                result = predict_rows(served.loaded, rows)
            except NotFinite as exc:
                raise CommandError(f"data row {start + exc.rows[0] + 1}: {exc}") from None
            predictions += result["predictions"]
            probabilities += result.get("probabilities", [])
        scored = frame.assign(prediction=predictions)
        if probabilities:
            classes = served.loaded.manifest["classes"]
            assert classes is not None  # only a classifier answers with probabilities
            scored = scored.join(pd.DataFrame(probabilities, columns=[f"probability_{c}" for c in classes]))
        self.write(scored, options["output"], csv, served.loaded)

    def write(self, scored: pd.DataFrame, output: Path, csv: dict[str, str], loaded: Runtime) -> None:
        """Write the scored rows as CSV, atomically, and say where and which runtime scored them (as GET /api/model)."""
        with atomic_path(output) as tmp:
            scored.to_csv(tmp, index=False, **csv)
        self.stdout.write(f"scored {len(scored)} rows into {output} (runtime {loaded.name}: {loaded.file})")


def tag_texts(loaded: TaggerRunner, frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """Each row with the entities of its text column, as the API's JSON list (an empty cell has none)."""
    if column not in frame.columns:
        raise DataError(f"no column {column!r} of texts: name it with --text; columns are {', '.join(frame.columns)}")
    assert loaded.tagger is not None  # a tagger's runtime holds it
    texts = frame[column].fillna("").map(str).tolist()
    found = [json.dumps(entities, ensure_ascii=False) for entities in loaded.tagger.tag_texts(texts)]
    return frame.assign(entities=found)


def recommend_users(loaded: RecommenderRunner, frame: pd.DataFrame, k: int | None) -> pd.DataFrame:
    """The top k items of every user of the file's user column (as data.interactions names it): a row per item."""
    settings = loaded.manifest["recommender"]
    column, k = str(settings["columns"]["user"]), k or settings["k"]
    if column not in frame.columns:
        raise DataError(f"the file lacks the user column {column!r} (data.interactions.user); "
                        f"columns are: {', '.join(map(str, frame.columns))}")  # fmt: skip
    if not 1 <= k <= MAX_K:
        raise DataError(f"--k must be from 1 to {MAX_K}, not {k}")
    assert loaded.recommender is not None  # a recommender's runtime holds its arrays
    rows: list[dict[str, Any]] = []
    for user in frame[column].dropna().unique().tolist():
        (positions, scores), fallback = loaded.recommender.for_visitor(k, user=user)
        for rank, item in enumerate(loaded.recommender.ranked(positions, scores), start=1):
            rows.append({column: user, "rank": rank, **item, "fallback": fallback or ""})
    return pd.DataFrame(rows)


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
