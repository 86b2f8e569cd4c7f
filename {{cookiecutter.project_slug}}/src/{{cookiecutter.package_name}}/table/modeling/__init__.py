"""The model: estimators, search, where it fits, how it predicts, its metrics and plot data."""
