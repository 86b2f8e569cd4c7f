"""Save the project's model in MLflow's format (run with the Python that has mlflow installed)."""

import sys

import joblib
import mlflow.sklearn

# cloudpickle like the joblib file itself; recent MLflow defaults to skops, which refuses tree models.
mlflow.sklearn.save_model(joblib.load(sys.argv[1]), sys.argv[2], serialization_format="cloudpickle")
