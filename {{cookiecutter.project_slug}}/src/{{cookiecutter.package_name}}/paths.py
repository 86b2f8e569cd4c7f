"""Every file and folder the pipeline reads or writes, relative to the project root: named once, here."""

from pathlib import Path

PARAMS_FILE = Path("params.yaml")
DVC_FILE = Path("dvc.yaml")
RAW_DIR = Path("data/raw")
PREPARED_DIR = Path("data/prepared")
TRAIN_PATH = PREPARED_DIR / "train.parquet"
TEST_PATH = PREPARED_DIR / "test.parquet"
PROFILE_PATH = Path("reports/data_profile.json")
MODEL_PATH = Path("models/model.joblib")
MANIFEST_PATH = MODEL_PATH.with_suffix(".json")  # the manifest sits beside the model
METRICS_PATH = Path("metrics/metrics.json")
PLOTS_DIR = Path("plots")
# What a retrain may change, and what the report site watches: the git-tracked outputs of dvc.yaml.
OUTPUTS = ("dvc.lock", "models", "metrics", "plots", "reports")
