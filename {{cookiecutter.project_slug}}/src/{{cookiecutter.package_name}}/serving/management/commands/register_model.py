"""`manage.py register_model`: record the verified model's manifest as a ModelVersion row."""

from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ....errors import ModelIntegrityError
from ....registry.artifacts import load_portable, onnx_unavailable, verify
from ... import conf
from ...records import register
from ...release import release_of


class Command(BaseCommand):
    help = "Record the model at SERVING_MODEL_PATH (its pickle and ONNX copy hash-verified) as a ModelVersion."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--model", type=Path, default=None, help="model file (default: SERVING_MODEL_PATH)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            path = options["model"] or conf.model_path()
            manifest = verify(path)
            if onnx_unavailable(manifest) is None:  # the checked ONNX copy, which the server answers from, too
                load_portable(path)
        except (ImproperlyConfigured, ModelIntegrityError) as exc:
            raise CommandError(str(exc)) from None
        # named as the server names it: its GTO version (model@v0.0.3) when git history has one
        entry, created = register(manifest | {"version": release_of(manifest, path.resolve().parent.parent)["version"]})
        state = "registered" if created else "already registered"
        self.stdout.write(f"{state}: {entry.version} sha256 {entry.sha256}")
