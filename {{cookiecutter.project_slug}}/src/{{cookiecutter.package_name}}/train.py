"""Stage train: fit the model on the train split, score it on the test split, save it with its manifest.

The kind that the params name (kinds.py) fits its model; the registry's door (registry/artifacts.py)
writes the model, its serving copy and the manifest pinning their sha256 together, or none of them.
"""

from . import kinds
from .errors import run_main
from .params import load_params


def main() -> None:
    """Hand the params to the kind they name; its estimators' parameter names hint at misspelt keys."""
    params = load_params(estimator_params=kinds.parameter_names)
    kinds.part(kinds.for_params(params), "train").train(params)


if __name__ == "__main__":
    run_main(main)
