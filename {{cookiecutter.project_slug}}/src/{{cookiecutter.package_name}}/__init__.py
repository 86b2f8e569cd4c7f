"""{{ cookiecutter.project_name }}: pipeline stages, model artifacts and their checks."""
