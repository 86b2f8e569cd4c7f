"""The static report site: pages generated at `mkdocs build` time from the workspace and git history."""
