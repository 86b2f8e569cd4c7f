"""`manage.py predict_file in.csv out.csv`: batch scoring through the API's validation."""

from pathlib import Path
from typing import Any, ClassVar

import pandas as pd
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from pydantic import ValidationError

from ....atomic import atomic_path
from ....data.load import csv_options, read_table
from ....errors import DataError
from ...model_store import ModelUnavailable, store
from ...predictor import predict_rows
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
    help = "Score a CSV or Parquet file with the served model; write the rows with their predictions as CSV."
    # A batch job, not a web server: it needs no DJANGO_SECRET_KEY, which the system checks demand.
    requires_system_checks: ClassVar[list[str]] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("input", type=Path)
        parser.add_argument("output", type=Path)
        parser.add_argument("--sep", default=",", help="the CSV files' column separator (default: ','; a tab: $'\\t')")
        parser.add_argument("--decimal", default=".", help="the CSV files' decimal mark (default: '.')")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            served = store.get()
            csv = csv_options(options["sep"], options["decimal"], prefix="--")
            frame = read_table(options["input"], csv)
        except (ModelUnavailable, DataError) as exc:
            raise CommandError(str(exc)) from None
        features = served.loaded.manifest["features"]
        names = [feature["name"] for feature in features]
        missing = [f["name"] for f in features if f["name"] not in frame.columns and not f.get("nullable")]
        if missing:
            raise CommandError(f"{options['input']} lacks feature columns: {', '.join(missing)}")
        frame = frame.reset_index(drop=True)
        for feature in features:
            if feature["kind"] == "number" and feature["name"] in frame.columns:
                frame[feature["name"]] = numbers_or_error(frame[feature["name"]])
            elif feature["kind"] == "text" and feature["name"] in frame.columns:  # "42" is a text; an empty cell ""
                frame[feature["name"]] = frame[feature["name"]].fillna("").map(str)
        predictions: list[Any] = []
        probabilities: list[list[float]] = []
        chunk_rows = settings.SERVING_MAX_ROWS
        # A nullable feature's absent column is missing throughout: left out of the rows, as the API allows.
        present = frame[[name for name in names if name in frame.columns]]
        for start in range(0, len(frame), chunk_rows):
            # Through JSON, so a file gets exactly the API's checks (types, nulls, NaN as null); dates as
            # ISO 8601 text, as a request sends them (a Parquet export holds real datetimes).
            chunk = present.iloc[start : start + chunk_rows].to_json(orient="records", date_format="iso")
            try:
                payload = served.request_model.model_validate_json('{"instances": ' + chunk + "}")
                rows = [row.model_dump(by_alias=True) for row in payload.instances]
            except ValidationError as exc:
                first = field_errors(exc)[0]
                row = first["field"].split("]")[0].split("[")[-1]
                where = f"data row {start + int(row) + 1}" if row.isdigit() else first["field"]
                raise CommandError(f"{where}: {first['field']}: {first['message']}") from None
            result = predict_rows(served.loaded, rows)
            predictions += result["predictions"]
            probabilities += result.get("probabilities", [])
        scored = frame.assign(prediction=predictions)
        if probabilities:
            classes = served.loaded.manifest["classes"]
            scored = scored.join(pd.DataFrame(probabilities, columns=[f"probability_{c}" for c in classes]))
        with atomic_path(options["output"]) as tmp:
            scored.to_csv(tmp, index=False, **csv)
        self.stdout.write(f"scored {len(scored)} rows into {options['output']}")
