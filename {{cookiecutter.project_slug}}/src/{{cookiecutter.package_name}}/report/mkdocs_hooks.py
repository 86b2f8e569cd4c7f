"""MkDocs hooks (see mkdocs.yml): generate the report's pages at every build, watch the pipeline's files."""

from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

from {{ cookiecutter.package_name }}.paths import DVC_FILE, MANIFEST_PATH, OUTPUTS, PARAMS_FILE

# Files whose change should rebuild the site under `mkdocs serve`.
WATCHED = (str(DVC_FILE), str(PARAMS_FILE), *OUTPUTS)


def project_root(config: Any) -> Path:
    """The folder of mkdocs.yml, which is the project's root."""
    return Path(config["config_file_path"]).resolve().parent


def on_config(config: Any) -> Any:
    """List the model's own page in the nav, after Metrics: an image model's gallery, a recommender's, a tagger's."""
    from {{ cookiecutter.package_name }}.report.pages import own_page, read_json

    nav, manifest = config["nav"], read_json(project_root(config) / MANIFEST_PATH)
    if manifest is None or (own := own_page(manifest)) is None:
        return config
    title, page = own
    if nav is None:
        return config  # no nav: MkDocs lists every page itself
    pages = [entry.values() if isinstance(entry, dict) else [entry] for entry in nav]
    if not any(page in paths for paths in pages):
        after = next((i + 1 for i, paths in enumerate(pages) if "metrics.md" in paths), len(nav))
        nav.insert(after, {title: page})
    return config


def on_files(files: Files, config: Any) -> Files:
    """Add the generated pages and images to the site."""
    # Imported here, not at the top: MkDocs puts this file's folder first on sys.path while it
    # loads the hook, where report/pages.py would shadow a module named `pages`.
    from {{ cookiecutter.package_name }}.report.pages import build_site

    for path, content in build_site(project_root(config)).items():
        files.append(File.generated(config, path, content=content))
    return files


def on_serve(server: Any, config: Any, builder: Any) -> Any:
    """Rebuild when the pipeline writes new outputs."""
    root = project_root(config)
    for name in WATCHED:
        if (root / name).exists():
            server.watch(str(root / name))
    return server
