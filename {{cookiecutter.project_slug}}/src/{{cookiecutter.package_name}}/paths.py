"""Every file and folder the pipeline reads or writes, relative to the project root: named once, here."""

from pathlib import Path

PARAMS_FILE = Path("params.yaml")
DVC_FILE = Path("dvc.yaml")
RAW_DIR = Path("data/raw")
PREPARED_DIR = Path("data/prepared")
TRAIN_PATH = PREPARED_DIR / "train.parquet"
TEST_PATH = PREPARED_DIR / "test.parquet"
ITEMS_PATH = PREPARED_DIR / "items.parquet"  # a recommender's items and their metadata (titles)
PROFILE_PATH = Path("reports/data_profile.json")
# What the monitor compares served data with: the training distributions, the test rows' answers.
REFERENCE_PATH = Path("reports/reference.json")
PREDICTIONS_REFERENCE_PATH = Path("reports/predictions_reference.json")
ENTITY_EXAMPLES_PATH = Path("reports/entity_examples.json")  # held-out texts, true and found entities
MONITORING_PATH = Path("reports/monitoring.json")  # written by `manage.py monitor`, read by the site
MODEL_PATH = Path("models/model.joblib")
MANIFEST_PATH = MODEL_PATH.with_suffix(".json")  # the manifest sits beside the model
METRICS_PATH = Path("metrics/metrics.json")
PLOTS_DIR = Path("plots")
# Every plot file of either task, as dvc.yaml's plots list them: evaluate writes each one, the other
# task's empty ([]), which `dvc plots show` leaves out without a warning. A csv project's task is
# known only once trained, so the list cannot be chosen when the project is made.
PLOT_NAMES = ("roc", "precision_recall", "confusion", "predictions", "residuals", "feature_importance")
# What a retrain may change, and what the report site watches: the git-tracked outputs of dvc.yaml.
OUTPUTS = ("dvc.lock", "models", "metrics", "plots", "reports")
