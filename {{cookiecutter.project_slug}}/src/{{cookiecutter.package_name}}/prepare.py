"""Stage prepare: load and validate the raw data, split it into train and test, profile it.

The kind that reads the data (kinds.py: a table, interactions or annotated texts) does the work;
it validates everything first, so nothing is written unless the data is usable.
"""

from . import kinds
from .errors import run_main
from .params import load_params

# The params.yaml sections this stage reads (and train.task, which decides whether to stratify).
SECTIONS = ("data", "prepare")


def main() -> None:
    """Hand the params to the kind they name."""
    params = load_params(sections=SECTIONS)
    kinds.part(kinds.for_params(params), "prepare").prepare(params)


if __name__ == "__main__":
    run_main(main)
