"""Watching the served model: served data against the training reference, and live metrics from feedback."""
