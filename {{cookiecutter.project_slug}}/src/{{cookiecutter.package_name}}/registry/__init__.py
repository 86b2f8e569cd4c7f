"""The trained model as a versioned artifact: its files and manifest, its versions and stages from git tags."""
