"""The data: load and validate it, its dtypes, schema, task and profile."""
