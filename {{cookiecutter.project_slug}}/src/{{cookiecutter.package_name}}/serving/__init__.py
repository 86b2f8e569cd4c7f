"""The Django app that serves the model: prediction API, model registry, admin."""
