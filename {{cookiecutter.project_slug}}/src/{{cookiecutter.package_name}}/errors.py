"""Errors a user can fix, and the one-line exit every command uses for them."""

import sys
from collections.abc import Callable


class PipelineError(Exception):
    """A problem in the data, the parameters or a saved model that the user can fix."""


class DataError(PipelineError):
    """The raw data cannot be used as it is."""


class ModelIntegrityError(PipelineError):
    """A saved model is missing or does not match its manifest."""


def run_main(main: Callable[[], None]) -> None:
    """Run a command's main(); on a PipelineError print one line and exit 1 instead of a traceback."""
    try:
        main()
    except PipelineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
