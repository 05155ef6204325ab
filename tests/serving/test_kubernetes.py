"""``examples/kubernetes``: valid Kubernetes objects that use only flags, settings and routes Keel has."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

FOLDER = Path(__file__).resolve().parents[2] / "examples" / "kubernetes"


def _objects() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(FOLDER.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            found[doc["kind"]] = doc
    return found


def test_every_manifest_is_valid_against_the_kubernetes_schema() -> None:
    kubernetes_validate = pytest.importorskip("kubernetes_validate")
    objects = _objects()
    assert set(objects) == {"Deployment", "Service", "Secret"}
    for doc in objects.values():
        kubernetes_validate.validate(doc, kubernetes_validate.latest_version(), strict=True)


def test_the_deployment_uses_real_flags_settings_and_routes() -> None:
    import typer.main

    from keel.cli import serve_cmd
    from keel.core.settings import SETTINGS
    from keel.serving.app import ROUTES

    objects = _objects()
    deployment, service, secret = objects["Deployment"], objects["Service"], objects["Secret"]
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    args = container["args"]
    assert args[:2] == ["keel", "serve"] and not args[2].startswith("-")
    command = typer.main.get_command(serve_cmd.app)
    flags = {opt for param in command.params for opt in param.opts}
    used = [a for a in args if a.startswith("--")]
    assert used and set(used) <= flags, set(used) - flags
    settings = {s.env for s in SETTINGS}
    env = {e["name"]: e for e in container["env"]}
    keel_vars = {name for name in env if name.startswith("KEEL_")}
    assert {"KEEL_DB_URL", "KEEL_ARTIFACTS_URL"} <= keel_vars <= settings
    for entry in env.values():
        ref = entry["valueFrom"]["secretKeyRef"]
        assert ref["name"] == secret["metadata"]["name"] and ref["key"] in secret["stringData"]
    paths = {path for path, _, _ in ROUTES}
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["path"] in paths
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    assert service["spec"]["ports"][0]["targetPort"] in {p["name"] for p in container["ports"]}
