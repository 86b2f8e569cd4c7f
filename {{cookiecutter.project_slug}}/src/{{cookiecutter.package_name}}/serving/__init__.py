"""The Django app that serves the model: prediction API, served-model records, admin."""
