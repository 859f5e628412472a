"""Monitoring as code: Prometheus in the compose stack scrapes the API and every worker with the
settings the code uses, the alert rules and the dashboard query only series the code exports,
images are pinned, and the CI workflow validates against GitHub's workflow schema."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from config import Settings

ROOT = Path(__file__).parent.parent
MONITORING = ROOT / "monitoring"

# Series the code exports: the API's (api/metrics.py, Litestar's request metrics with the
# worlddoor_api prefix) and the Temporal SDK's (tests/test_telemetry.py scrapes them).
API_SERIES = {
    "worlddoor_orders",
    "worlddoor_inspections_waiting",
    "worlddoor_inspection_oldest_waiting_seconds",
    "worlddoor_labels_bought_today",
    "worlddoor_emails_failed",
    "worlddoor_workflows_retrying",
    "worlddoor_workflows_task_failing",
    "worlddoor_activity_max_attempt",
    "worlddoor_workflows_scanned",
    "worlddoor_workflows_failed_today",
    "worlddoor_metrics_source_up",
    "worlddoor_api_requests_total",
    "worlddoor_api_request_duration_seconds_bucket",
    "worlddoor_api_requests_in_progress",
    "worlddoor_api_requests_error_total",
}
# adapters/quota.py DailyUsageCollector, registered beside the business gauges
QUOTA_SERIES = {"worlddoor_vendor_calls_today", "worlddoor_vendor_calls_budget"}
SDK_SERIES = {
    "temporal_workflow_task_schedule_to_start_latency_bucket",
    "temporal_worker_task_slots_available",
    "temporal_activity_execution_failed",
    "temporal_workflow_task_execution_failed",  # tests/activities/test_health.py scrapes it
}
SERIES = re.compile(r"\b((?:worlddoor|temporal)_[a-z_]+)\b")


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_business_series_are_the_ones_the_api_exports() -> None:
    from api.metrics import BusinessMetrics

    metrics = BusinessMetrics(Settings(), temporal=None)
    exported = {family.name for family in metrics.collect()}
    assert exported == {name for name in API_SERIES if not name.startswith("worlddoor_api_")}


def test_vendor_quota_series_are_the_ones_the_collector_exports() -> None:
    from adapters.quota import DailyUsageCollector

    assert {family.name for family in DailyUsageCollector([]).collect()} == QUOTA_SERIES


def test_prometheus_scrapes_the_api_and_every_worker() -> None:
    config = yaml.safe_load((MONITORING / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    settings = Settings()
    worker = jobs["worker"]["dns_sd_configs"][0]
    assert worker["names"] == ["worker"] and worker["port"] == settings.worker_metrics_port
    api = jobs["api"]
    assert api["metrics_path"] == "/metrics"
    assert api["dns_sd_configs"][0]["port"] == 8000
    assert api["authorization"]["credentials_file"] == "/run/secrets/metrics_token"
    services = compose()["services"]
    assert services["worker"]["environment"]["WORKER_METRICS_HOST"] == "0.0.0.0"
    assert "PROMETHEUS_MULTIPROC_DIR" in services["api"]["environment"]
    assert services["prometheus"]["secrets"] == ["metrics_token"]
    assert compose()["secrets"]["metrics_token"] == {"environment": "METRICS_TOKEN"}


def test_monitoring_images_are_pinned() -> None:
    services = compose()["services"]
    for name in ("prometheus", "grafana"):
        image = services[name]["image"]
        tag = image.rsplit(":", 1)[1] if ":" in image else ""
        assert re.fullmatch(r"v?\d+\.\d+\.\d+", tag), f"{name} is not pinned: {image}"
        assert "healthcheck" in services[name]


def test_alert_rules_use_exported_series_only() -> None:
    rules = yaml.safe_load((MONITORING / "alerts.yml").read_text())
    alerts = [rule for group in rules["groups"] for rule in group["rules"]]
    assert len(alerts) >= 10
    for rule in alerts:
        assert rule["alert"] and rule["expr"] and rule["annotations"]["summary"]
        unknown = set(SERIES.findall(rule["expr"])) - API_SERIES - QUOTA_SERIES - SDK_SERIES
        assert not unknown, f"{rule['alert']} uses {unknown}"
    readme = (ROOT / "README.md").read_text()
    for rule in alerts:
        assert rule["alert"] in readme, f"README does not list the {rule['alert']} alert"


def test_the_dashboard_is_provisioned_and_queries_exported_series() -> None:
    dashboard = json.loads((MONITORING / "grafana/dashboards/worlddoor.json").read_text())
    datasource = yaml.safe_load(
        (MONITORING / "grafana/provisioning/datasources/prometheus.yml").read_text()
    )["datasources"][0]
    assert dashboard["uid"] and dashboard["panels"]
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == datasource["uid"]
        for target in panel["targets"]:
            unknown = set(SERIES.findall(target["expr"])) - API_SERIES - SDK_SERIES
            assert not unknown, f"{panel['title']} uses {unknown}"
    mounts = compose()["services"]["grafana"]["volumes"]
    assert "./monitoring/grafana/dashboards:/var/lib/grafana/dashboards:ro" in mounts


@pytest.mark.integration  # check-jsonschema as a process
def test_ci_workflow_matches_githubs_schema_and_runs_what_ci_runs() -> None:
    workflow_file = ROOT / ".github/workflows/ci.yml"
    check = subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.github-workflows",
            str(workflow_file),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    workflow = yaml.safe_load(workflow_file.read_text())
    test = workflow["jobs"]["test"]
    assert set(test["services"]) == {"postgres", "redis"}
    steps = " ".join(step.get("run", "") for step in test["steps"])
    assert "bash .ci/run" in steps and "make lint" in steps
    image, deploy = workflow["jobs"]["image"], workflow["jobs"]["deploy"]
    assert image["needs"] == "test" and deploy["needs"] == "image"
    assert "refs/heads/main" in deploy["if"]
    text = workflow_file.read_text()
    assert "vars.REGISTRY" in text and "secrets.DEPLOY_HOST" in text
    assert not re.search(r"(ghcr\.io|docker\.io|amazonaws\.com)/", text.split("\nname:", 1)[1])


@pytest.mark.integration  # check-jsonschema as a process
def test_the_schema_check_rejects_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  test:\n    steps: 3\n")
    check = subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.github-workflows",
            str(broken),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert check.returncode != 0
