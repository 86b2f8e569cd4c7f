"""Save the project's model in MLflow's format (run with the Python that has mlflow installed)."""

import sys

import joblib
import mlflow.sklearn

mlflow.sklearn.save_model(joblib.load(sys.argv[1]), sys.argv[2])
