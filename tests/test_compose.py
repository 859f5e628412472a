"""docker-compose.yml validates against the Compose Specification schema."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import yaml

ROOT = Path(__file__).parent.parent


def test_compose_file_matches_the_compose_specification() -> None:
    schema = json.loads((ROOT / "sandbox/specs/compose/compose-spec.json").read_text())
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    jsonschema.Draft7Validator(schema).validate(compose)
    services = compose["services"]
    for name in (
        "postgres",
        "redis",
        "temporal",
        "temporal-ui",
        "minio",
        "api",
        "worker",
        "sandbox",
    ):
        assert name in services, name
        assert "healthcheck" in services[name] or name == "migrate", name
    assert services["api"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_temporal_runs_the_production_image_with_one_shot_schema_and_namespace_jobs() -> None:
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    assert services["temporal"]["image"].startswith("temporalio/server:")
    assert not any("auto-setup" in str(svc.get("image", "")) for svc in services.values())
    done = {"condition": "service_completed_successfully"}
    assert services["temporal"]["depends_on"]["temporal-schema"] == done
    assert "update-schema" in "".join(services["temporal-schema"]["command"])
    for name in ("api", "worker", "temporal-ui"):
        assert services[name]["depends_on"]["temporal-namespace"] == done, name
    assert "--retention" in "".join(services["temporal-namespace"]["command"])
    assert services["temporal-ui"]["environment"]["TEMPORAL_CODEC_ENDPOINT"].endswith(
        "/api/temporal-codec"
    )
    for name in ("temporal", "temporal-schema", "temporal-namespace", "temporal-ui", "minio"):
        image = services[name]["image"]
        tag = image.rsplit(":", 1)[-1]
        assert ":" in image and tag != "latest" and any(c.isdigit() for c in tag), image


def test_dockerfile_runs_as_a_non_root_user() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert dockerfile.count("FROM ") >= 2, "multi-stage"
    assert "\nUSER worlddoor" in dockerfile
