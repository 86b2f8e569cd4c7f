"""`manage.py predict_file in.csv out.csv`: batch scoring through the API's validation.

The served model's kind scores the file (kinds.py: its batch.py): a table's rows or images, a
recommender's users, a tagger's texts.
"""

from pathlib import Path
from typing import Any, ClassVar

import pandas as pd
from django.core.management.base import BaseCommand, CommandError, CommandParser

from .... import kinds
from ....atomic import atomic_path
from ....data.load import csv_options
from ....errors import DataError
from ...model_store import ModelUnavailable, store
from ...runtime import Runtime


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
        parser.add_argument("--k", type=int, default=None, help="a recommender: items per user (default: train.k)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            served = store.get()
            csv = csv_options(options["sep"], options["decimal"], prefix="--")
            batch = kinds.part(kinds.for_task(served.loaded.manifest["task"]), "batch")
            scored = batch.score(served, options["input"], csv, options)
        except (ModelUnavailable, DataError) as exc:
            raise CommandError(str(exc)) from None
        self.write(scored, options["output"], csv, served.loaded)

    def write(self, scored: pd.DataFrame, output: Path, csv: dict[str, str], loaded: Runtime) -> None:
        """Write the scored rows as CSV, atomically, and say where and which runtime scored them (as GET /api/model)."""
        with atomic_path(output) as tmp:
            scored.to_csv(tmp, index=False, **csv)
        self.stdout.write(f"scored {len(scored)} rows into {output} (runtime {loaded.name}: {loaded.file})")
