"""The container image, the compose file and the Kubernetes manifests, checked without Docker
or a cluster: the Dockerfile by hadolint, the compose file against the compose
specification's schema, the kustomize overlays rendered by kustomize and every core object
validated against the Kubernetes schemas; and all of them against the code: every service,
every topic of shared/contracts, every setting a service needs (``needs.py``)."""

import json
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from rinnovo.contracts.topics import TOPICS
from rinnovo.devstack.kustomize import kustomize_build
from tests.deploy.needs import needs, services, topics_of

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
DOCKERFILE = DEPLOY / "container" / "Dockerfile"
COMPOSE = DEPLOY / "compose" / "compose.yaml"
ENV_EXAMPLE = DEPLOY / "compose" / "rinnovo.env.example"
OVERLAYS = {
    "base": DEPLOY / "k8s" / "base",
    "production": DEPLOY / "k8s" / "overlays" / "production",
}
PARTITIONS, REPLICAS, MIN_INSYNC = 6, 3, 2
KUBERNETES = "1.33"
SCALED = ("orders", "payments", "notifier", "portal")
"""Services that run more than one replica behind an autoscaler."""


def every_topic() -> dict[str, bool]:
    """Each topic and its dead-letter twin → compacted."""
    found = {}
    for spec in TOPICS.values():
        found[spec.name] = spec.compacted
        found[spec.dead_letter] = False
    return found


# ---- the image ----


@cache
def image_env() -> dict[str, str]:
    """The ENV the Dockerfile sets (continuation lines joined)."""
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    env: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("ENV "):
            env.update(dict(re.findall(r"(\w+)=(\S+)", line)))
    return env


def test_the_dockerfile_passes_hadolint() -> None:
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    done = subprocess.run(
        [hadolint, "--failure-threshold", "info", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_image_installs_the_whole_workspace_from_the_lock_as_a_non_root_user() -> None:
    text = DOCKERFILE.read_text()
    members = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["uv"]["workspace"]
    for member in members["members"]:
        assert f"COPY {member}/pyproject.toml {member}/" in text, f"{member} is not copied"
    syncs = re.findall(r"uv sync[^\n]*", text)
    assert syncs and all("--frozen" in sync and "--no-dev" in sync for sync in syncs)
    uv_version = re.search(r"^UV_VERSION := (\S+)", (ROOT / "Makefile").read_text(), re.M)
    assert uv_version and f"ghcr.io/astral-sh/uv:{uv_version.group(1)}" in text
    [user] = re.findall(r"^USER (\S+)", text, re.M)
    assert not user.startswith(("0", "root"))
    assert "/health/ready" in re.search(r"HEALTHCHECK[^\n]*\n[^\n]*", text).group(0)  # type: ignore[union-attr]
    assert 'ENTRYPOINT ["rinnovo"]' in text


def test_every_service_listens_on_all_interfaces_of_its_container() -> None:
    for service in services():
        prefix = f"RINNOVO_{service.upper()}_"
        assert image_env().get(prefix + "HTTP_HOST") == "0.0.0.0", service
        assert image_env().get(prefix + "HTTP_PORT") == "8080", service


# ---- compose ----


@cache
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


def env_example() -> set[str]:
    return {
        line.split("=", 1)[0]
        for line in ENV_EXAMPLE.read_text().splitlines()
        if "=" in line and not line.startswith("#")
    }


def test_the_compose_file_holds_to_the_compose_specification() -> None:
    schema_file = files("check_jsonschema.builtin_schemas.vendor").joinpath("compose-spec.json")
    schema = json.loads(schema_file.read_text())
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(compose())]
    assert errors == []


def test_compose_runs_three_brokers_a_replica_set_and_every_service() -> None:
    running = compose()["services"]
    brokers = [s for s in running.values() if str(s.get("image", "")).startswith("apache/kafka:4")]
    assert len([b for b in brokers if "KAFKA_NODE_ID" in b.get("environment", {})]) == 3
    for broker in brokers:
        if "KAFKA_NODE_ID" in broker.get("environment", {}):
            assert broker["environment"]["KAFKA_MIN_INSYNC_REPLICAS"] == str(MIN_INSYNC)
            assert broker["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"
    mongods = [s for s in running.values() if "--replSet" in s.get("command", [])]
    assert len(mongods) == 3 and all(s["image"].startswith("mongo:8") for s in mongods)
    assert "rs.initiate" in " ".join(running["mongo-init"]["command"])
    for service in services():
        assert running[service]["command"] == ["run", service]
    for service in ("orders", "payments"):
        assert running[service]["deploy"]["replicas"] >= 2


def test_compose_creates_every_topic_with_replication_and_min_insync() -> None:
    script = " ".join(compose()["services"]["kafka-topics"]["command"])
    assert f"--partitions {PARTITIONS} --replication-factor {REPLICAS}" in script
    assert f"--config min.insync.replicas={MIN_INSYNC}" in script
    named = set(re.findall(r"[\w-]+(?:\.[\w-]+)+", script))
    for topic, compacted in every_topic().items():
        base = topic.removesuffix(".DLT")
        assert base in named, f"{topic} is not created"
        compact_loop = script.split("cleanup.policy=compact")[0]
        assert (base in compact_loop) == compacted or topic.endswith(".DLT")


def test_compose_gives_each_service_what_it_needs_and_secrets_only_from_the_env_file() -> None:
    assert (DEPLOY / "compose" / ".gitignore").read_text().split() == ["rinnovo.env"]
    tracked = subprocess.run(
        ["git", "ls-files", "deploy/compose"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert "deploy/compose/rinnovo.env" not in tracked
    secrets_file = env_example()
    for service in services():
        spec = compose()["services"][service]
        assert [entry["path"] for entry in spec["env_file"]] == ["rinnovo.env"]
        environment = set(spec.get("environment", {}))
        for need in needs(service):
            if need.secret:
                assert need.variable in secrets_file, f"{service}: {need.variable}"
                assert need.variable not in environment, f"{service}: {need.variable} inline"
            else:
                assert need.variable in environment | set(image_env()), (
                    f"{service}: {need.variable} ({need.why})"
                )


# ---- Kubernetes ----


@cache
def rendered(overlay: str) -> tuple[dict[str, Any], ...]:
    return tuple(d for d in yaml.safe_load_all(kustomize_build(OVERLAYS[overlay])) if d)


def of_kind(overlay: str, kind: str) -> Iterator[dict[str, Any]]:
    return (d for d in rendered(overlay) if d["kind"] == kind)


def named(overlay: str, kind: str, name: str) -> dict[str, Any]:
    [found] = [d for d in of_kind(overlay, kind) if d["metadata"]["name"] == name]
    return found


@pytest.mark.parametrize("overlay", sorted(OVERLAYS))
def test_every_core_object_is_valid_for_kubernetes(overlay: str) -> None:
    core = [d for d in rendered(overlay) if "strimzi" not in d["apiVersion"]]
    core = [d for d in core if "mongodb" not in d["apiVersion"]]
    assert {d["kind"] for d in core} >= {
        "Deployment",
        "Service",
        "ConfigMap",
        "PodDisruptionBudget",
        "HorizontalPodAutoscaler",
    }
    for document in core:
        kubernetes_validate.validate(document, KUBERNETES, strict=True)


@pytest.mark.parametrize("overlay", sorted(OVERLAYS))
def test_each_service_is_a_hardened_deployment_with_probes(overlay: str) -> None:
    for service in services():
        deployment = named(overlay, "Deployment", service)
        pod = deployment["spec"]["template"]["spec"]
        [container] = pod["containers"]
        assert container["args"] == ["run", service]
        assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
        assert container["livenessProbe"]["httpGet"]["path"] == "/health/live"
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
        assert container["resources"]["requests"] and container["resources"]["limits"]["memory"]
        assert pod["affinity"]["podAntiAffinity"]
        assert named(overlay, "PodDisruptionBudget", service)["spec"]["minAvailable"] == 1
    for service in SCALED:
        autoscaler = named(overlay, "HorizontalPodAutoscaler", service)["spec"]
        # A replica beyond the partitions of its topics would consume nothing.
        assert 2 <= autoscaler["minReplicas"] <= autoscaler["maxReplicas"] <= PARTITIONS


@pytest.mark.parametrize("overlay", sorted(OVERLAYS))
def test_each_service_gets_what_it_needs_and_secrets_only_from_secrets(overlay: str) -> None:
    config = named(overlay, "ConfigMap", "rinnovo-config")["data"]
    for service in services():
        [container] = named(overlay, "Deployment", service)["spec"]["template"]["spec"][
            "containers"
        ]
        assert container["envFrom"] == [{"configMapRef": {"name": "rinnovo-config"}}]
        from_secrets = {
            e["name"] for e in container["env"] if "secretKeyRef" in e.get("valueFrom", {})
        }
        given = {e["name"] for e in container["env"]} | set(config) | set(image_env())
        for need in needs(service):
            assert need.variable in given, f"{overlay} {service}: {need.variable} ({need.why})"
            if need.secret:
                assert need.variable in from_secrets, f"{service}: {need.variable} not a secret"
                assert need.variable not in config


@pytest.mark.parametrize("overlay", sorted(OVERLAYS))
def test_every_topic_is_a_kafka_topic_with_replication_and_min_insync(overlay: str) -> None:
    topics = {t["spec"]["topicName"]: t["spec"] for t in of_kind(overlay, "KafkaTopic")}
    assert set(topics) == set(every_topic())
    for topic, compacted in every_topic().items():
        spec = topics[topic]
        assert (spec["partitions"], spec["replicas"]) == (PARTITIONS, REPLICAS)
        assert spec["config"]["min.insync.replicas"] == MIN_INSYNC
        assert (spec["config"].get("cleanup.policy") == "compact") == compacted
    [pool] = of_kind(overlay, "KafkaNodePool")
    assert pool["spec"]["replicas"] == REPLICAS
    assert set(pool["spec"]["roles"]) == {"broker", "controller"}
    config = named(overlay, "Kafka", "rinnovo")["spec"]["kafka"]["config"]
    assert config["min.insync.replicas"] == MIN_INSYNC
    assert config["auto.create.topics.enable"] is False


def acls(user: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {
        (acl["resource"]["type"], acl["resource"]["name"], operation)
        for acl in user["spec"]["authorization"]["acls"]
        for operation in acl["operations"]
    }


def test_each_service_has_a_kafka_user_allowed_exactly_what_it_does() -> None:
    for service in services():
        topics = topics_of(service)
        granted = acls(named("production", "KafkaUser", service))
        writes = {name for kind, name, op in granted if kind == "topic" and op == "Write"}
        reads = {name for kind, name, op in granted if kind == "topic" and op == "Read"}
        assert writes == topics.produced | {t + ".DLT" for t in topics.consumed}, service
        assert reads == topics.consumed, service
        if topics.consumed:
            assert ("group", f"rinnovo-{service}", "Read") in granted
    kafka = named("production", "Kafka", "rinnovo")["spec"]["kafka"]
    assert kafka["authorization"]["type"] == "simple"
    assert [listener["authentication"]["type"] for listener in kafka["listeners"]] == [
        "scram-sha-512"
    ]
    config = named("production", "ConfigMap", "rinnovo-config")["data"]
    assert config["KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
    for service in services():
        [container] = named("production", "Deployment", service)["spec"]["template"]["spec"][
            "containers"
        ]
        env = {e["name"]: e for e in container["env"]}
        assert env["KAFKA_SASL_USERNAME"]["value"] == service
        assert env["KAFKA_SASL_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == service


@pytest.mark.parametrize("overlay", sorted(OVERLAYS))
def test_each_service_has_a_database_user_of_its_own(overlay: str) -> None:
    [mongodb] = of_kind(overlay, "MongoDBCommunity")
    assert mongodb["spec"]["members"] == 3 and mongodb["spec"]["type"] == "ReplicaSet"
    users = {u["name"]: u for u in mongodb["spec"]["users"]}
    for service in services():
        user = users[service]
        assert user["roles"] == [{"name": "readWrite", "db": f"rinnovo_{service}"}]
        [container] = named(overlay, "Deployment", service)["spec"]["template"]["spec"][
            "containers"
        ]
        [url] = [e for e in container["env"] if e["name"] == "MONGODB_URL"]
        assert url["valueFrom"]["secretKeyRef"]["name"] == user["connectionStringSecretName"]
