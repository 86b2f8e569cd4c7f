"""The features a model sees: the encoder built from the schema, and your own features (custom.py)."""
