"""The baked Kubernetes manifests and the GitOps deploy: overlays that build and validate, promotion as a commit."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import BIN, Project, require

pytestmark = pytest.mark.xdist_group("deploy")  # one worker: its module fixture trains two versions once

OVERLAYS = Path("deploy/kubernetes/overlays")


def kustomize(project: Project, stage: str) -> list[dict[str, Any]]:
    """The stage's manifests as `kubectl kustomize` builds them (what Argo CD and Flux apply)."""
    kubectl = require(shutil.which("kubectl"), "kubectl is not installed (it builds the kustomize overlays)")
    built = project.run(kubectl, "kustomize", str(OVERLAYS / stage)).stdout
    return [document for document in yaml.safe_load_all(built) if document]


def by_kind(documents: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {document["kind"]: document for document in documents}


def images(documents: list[dict[str, Any]]) -> set[str]:
    """Every container image the manifests run (init containers and the CronJob's too)."""
    found = set()
    for document in documents:
        spec = document["spec"].get("jobTemplate", document)["spec"] if "spec" in document else {}
        pod = spec.get("template", {}).get("spec", {})
        found |= {c["image"] for c in pod.get("containers", []) + pod.get("initContainers", [])}
    return found


@pytest.fixture(scope="module")
def versions(bake_shared: Callable[..., Project], tmp_path_factory: pytest.TempPathFactory) -> tuple[Project, Path]:
    """A Django project with two registered model versions, v0.0.1 and v0.0.2, pushed to a bare origin."""
    project = bake_shared(project_name="Deploy")
    origin = project.add_origin(tmp_path_factory.mktemp("deploy"))
    for version, trees in (("v0.0.1", 20), ("v0.0.2", 40)):
        hyperparams = {"random_forest": {"n_estimators": trees, "max_depth": None, "min_samples_leaf": 1}}
        project.set_params("train", hyperparams=hyperparams)
        project.dvc("repro")
        project.commit_all(f"Model with {trees} trees")
        project.run(str(BIN / "gto"), "register", "model", "HEAD", "--version", version)
    project.run("git", "push", "-q", "--tags", "origin", "main")
    return project, origin


@pytest.fixture
def deployed(versions: tuple[Project, Path], tmp_path: Path) -> tuple[Project, Path]:
    """A private copy of the project and its origin, for one test to promote in."""
    project, origin = versions
    return project.copy_with_origin(origin, tmp_path)


@pytest.mark.parametrize("stage", ["staging", "prod"])
def test_each_overlay_builds_and_passes_strict_schema_validation(versions: tuple[Project, Path], stage: str) -> None:
    project, _ = versions
    documents = kustomize(project, stage)
    kinds = by_kind(documents)
    assert set(kinds) == {"Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "CronJob"}
    built = project.path / f"{stage}.yaml"
    built.write_text(yaml.safe_dump_all(documents))
    result = project.run(str(BIN / "kubernetes-validate"), "--strict", str(built))
    assert result.stdout.count("passed for resource") == len(documents), result.stdout

    assert {document["metadata"]["namespace"] for document in documents} == {f"deploy-{stage}"}
    pod = kinds["Deployment"]["spec"]["template"]["spec"]
    (server,) = pod["containers"]
    for probe in ("readinessProbe", "livenessProbe"):
        health = {"path": "/api/health", "port": "http", "httpHeaders": [{"name": "Host", "value": "localhost"}]}
        assert server[probe]["httpGet"] == health  # a Host that DJANGO_ALLOWED_HOSTS narrowed to yours still lets in
        assert server[probe]["timeoutSeconds"] == 5
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] == 10001
    for container in (server, *pod["initContainers"]):
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert container["envFrom"] == [{"secretRef": {"name": "deploy"}}]  # the key and DATABASE_URL
        assert container["resources"]["requests"] and container["resources"]["limits"]["memory"]
    assert pod["initContainers"][0]["command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert {"name": "START_MIGRATE", "value": "no"} in server["env"]
    annotations = kinds["Deployment"]["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true" and annotations["prometheus.io/path"] == "/metrics"
    monitor = kinds["CronJob"]["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    assert monitor["command"][:3] == ["python", "manage.py", "monitor"]
    assert images(documents) == {"ghcr.io/your-org/deploy:latest", "ghcr.io/your-org/deploy-monitor:latest"}
    assert kinds["HorizontalPodAutoscaler"]["spec"]["minReplicas"] == (3 if stage == "prod" else 2)


def test_promote_commits_the_stage_pin_and_rolling_back_is_promoting_the_older_version(
    deployed: tuple[Project, Path],
) -> None:
    project, origin = deployed
    overlay = project.path / OVERLAYS / "prod" / "kustomization.yaml"
    comments = [line for line in overlay.read_text().splitlines() if line.startswith("#")]
    promote = ["make", "promote", f"BIN={BIN}", "STAGE=prod", "IMAGE=ghcr.io/acme/deploy", "PUSH=origin"]
    result = project.run(*promote, "VERSION=v0.0.2")
    assert "promote: model#prod#1" in result.stdout
    pins = "pins ghcr.io/acme/deploy:model-v0.0.2, ghcr.io/acme/deploy-monitor:model-v0.0.2 (committed)"
    assert pins in result.stdout
    pinned = {"ghcr.io/acme/deploy:model-v0.0.2", "ghcr.io/acme/deploy-monitor:model-v0.0.2"}
    assert images(kustomize(project, "prod")) == pinned
    assert [line for line in overlay.read_text().splitlines() if line.startswith("#")] == comments  # kept
    head = project.run("git", "log", "-1", "--format=%s", "--name-only").stdout.split("\n")
    assert head[0] == "Deploy model@v0.0.2 to prod" and head[2] == f"{OVERLAYS}/prod/kustomization.yaml"
    remote = ["git", "--git-dir", str(origin)]
    assert project.run(*remote, "log", "-1", "--format=%s", "main").stdout.strip() == "Deploy model@v0.0.2 to prod"
    assert "model#prod#1" in project.run(*remote, "tag").stdout.split()
    assert images(kustomize(project, "staging")) == {  # another stage's pin does not move
        "ghcr.io/your-org/deploy:latest",
        "ghcr.io/your-org/deploy-monitor:latest",
    }

    project.run(*promote, "VERSION=v0.0.1")  # the rollback
    assert images(kustomize(project, "prod")) == {name.replace("v0.0.2", "v0.0.1") for name in pinned}
    assert project.run(*remote, "log", "-1", "--format=%s", "main").stdout.strip() == "Deploy model@v0.0.1 to prod"
    shown = project.run(str(BIN / "gto"), "show", "model@v0.0.1", "--json").stdout
    assert "prod" in shown

    before = project.run("git", "rev-parse", "HEAD").stdout
    review = project.run("make", "promote", f"BIN={BIN}", "VERSION=v0.0.2", "STAGE=review")  # no overlay: a tag only
    assert "promote: model#review#" in review.stdout and "pins" not in review.stdout
    assert project.run("git", "rev-parse", "HEAD").stdout == before


def test_the_gitops_controller_examples_point_at_the_overlays(versions: tuple[Project, Path]) -> None:
    project, _ = versions
    application = yaml.safe_load((project.path / "deploy" / "argocd" / "application.yaml").read_text())
    assert application["kind"] == "Application" and application["spec"]["syncPolicy"]["automated"]["selfHeal"]
    flux = by_kind(list(yaml.safe_load_all((project.path / "deploy" / "flux" / "kustomization.yaml").read_text())))
    assert flux["Kustomization"]["spec"]["prune"] is True
    assert flux["Kustomization"]["spec"]["sourceRef"]["name"] == flux["GitRepository"]["metadata"]["name"]
    for path in (application["spec"]["source"]["path"], flux["Kustomization"]["spec"]["path"]):
        overlay = Path(path.removeprefix("./"))
        assert overlay.parent == OVERLAYS  # the path each controller applies is an overlay that builds
        assert by_kind(kustomize(project, overlay.name))["Deployment"]


def test_a_recommender_ships_no_monitor_to_deploy(bake_shared: Callable[..., Project]) -> None:
    # the monitor judges a table model's served rows: no CronJob, no monitor image to pin or push
    project = bake_shared(project_name="Deploy Recommender", dataset="supermarket")
    documents = kustomize(project, "prod")
    assert "CronJob" not in by_kind(documents)
    assert images(documents) == {"ghcr.io/your-org/deploy-recommender:latest"}
    assert "GROUP=monitor" not in (project.path / ".github" / "workflows" / "retrain.yml").read_text()
