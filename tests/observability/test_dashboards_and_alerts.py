"""The dashboards and alerts in deploy/observability hold together: Prometheus's own
promtool accepts the rules and the configuration and passes the rules' unit tests; every
metric a rule or a panel reads is one some service exports; every alert has its runbook in
docs/operations.md."""

import json
import re
import subprocess
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import promql_parser
import pytest
import yaml
from prometheus_client import CollectorRegistry

from rinnovo.devstack.promtool import install_promtool
from rinnovo.runtime.plugins import allowed_services

ROOT = Path(__file__).resolve().parents[2]
OBSERVABILITY = ROOT / "deploy" / "observability"
RULES = OBSERVABILITY / "prometheus" / "rules.yml"
DASHBOARD = OBSERVABILITY / "grafana" / "rinnovo-operations.json"
OPERATIONS = ROOT / "docs" / "operations.md"

PROMETHEUS_OWN = {"up"}
"""Series Prometheus makes itself when it scrapes."""
SUFFIXES = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "summary": ("", "_count", "_sum", "_created"),
    "info": ("_info",),
}


def promtool(*args: str, cwd: Path) -> str:
    done = subprocess.run(
        [str(install_promtool()), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_promtool_accepts_the_rules_and_the_configuration() -> None:
    checked = promtool("check", "rules", "rules.yml", cwd=RULES.parent)
    assert "SUCCESS: 9 rules found" in checked
    promtool("check", "config", "prometheus.yml", cwd=RULES.parent)


def test_each_alert_fires_when_it_should_and_only_then() -> None:
    assert "SUCCESS" in promtool("test", "rules", "rules.test.yml", cwd=RULES.parent)


def rules() -> list[dict[str, Any]]:
    document = yaml.safe_load(RULES.read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def panels() -> list[dict[str, Any]]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [p for p in dashboard["panels"] if p["type"] != "row"]


def grafana_free(expr: str) -> str:
    """A panel's query as Prometheus gets it once Grafana has filled in its variables."""
    return expr.replace("$__rate_interval", "5m").replace("$job", "rinnovo-.*")


def metric_names(node: Any) -> Iterator[str]:
    if isinstance(node, promql_parser.VectorSelector):
        assert node.name, f"a selector without a metric name: {node}"
        yield node.name
        return
    for attribute in ("lhs", "rhs", "expr", "vector_selector", "param"):
        child = getattr(node, attribute, None)
        if child is not None:
            yield from metric_names(child)
    for arg in getattr(node, "args", None) or ():
        yield from metric_names(arg)


def used_by_rules() -> set[str]:
    return {name for rule in rules() for name in metric_names(promql_parser.parse(rule["expr"]))}


def used_by_dashboard() -> set[str]:
    return {
        name
        for panel in panels()
        for target in panel["targets"]
        for name in metric_names(promql_parser.parse(grafana_free(target["expr"])))
    }


def exported_by(registry: CollectorRegistry) -> set[str]:
    return {
        family.name + suffix for family in registry.collect() for suffix in SUFFIXES[family.type]
    }


@cache
def exported() -> frozenset[str]:
    """Every series name the services put on /metrics, as composed to run (not started)."""
    names: set[str] = set()
    for plugin in allowed_services().values():
        names |= exported_by(plugin.build().runtime.metrics.registry)
    return frozenset(names)


@pytest.fixture(autouse=True)
def development_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RINNOVO_DEV_MODE", "true")  # the services' public default secrets


def test_every_metric_a_rule_reads_is_exported_by_a_service() -> None:
    used = used_by_rules()
    assert {"rinnovo_consumer_lag", "rinnovo_outbox_oldest_age_seconds", "up"} <= used
    assert used - PROMETHEUS_OWN <= exported(), used - PROMETHEUS_OWN - exported()


def test_every_metric_a_panel_reads_is_exported_by_a_service() -> None:
    used = used_by_dashboard()
    assert "http_request_duration_seconds_bucket" in used
    assert used - PROMETHEUS_OWN <= exported(), used - PROMETHEUS_OWN - exported()
    assert "rinnovo_made_up_total" not in exported()  # the check can fail


def test_the_dashboard_is_one_grafana_loads() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] and dashboard["title"]
    variables = {v["name"] for v in dashboard["templating"]["list"]}
    assert variables == {"datasource", "job"}
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in panels():
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        assert panel["targets"], panel["title"]
        assert all("$job" in t["expr"] for t in panel["targets"]), panel["title"]


def headings() -> set[str]:
    """docs/operations.md's anchors, as a Markdown renderer makes them."""
    found = set()
    for line in OPERATIONS.read_text().splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            found.add(re.sub(r"\s+", "-", re.sub(r"[^\w\s-]", "", title)))
    return found


def test_every_alert_points_to_its_runbook() -> None:
    anchors = headings()
    for rule in rules():
        annotations = rule["annotations"]
        assert annotations["summary"] and annotations["description"], rule["alert"]
        assert rule["labels"]["severity"] in {"warning", "critical"}, rule["alert"]
        document, _, anchor = annotations["runbook_url"].partition("#")
        assert document == "docs/operations.md", rule["alert"]
        assert anchor in anchors, f"{rule['alert']}: no section #{anchor} in {OPERATIONS}"
