"""Unit tests of the launcher that need no server: environment, cache, locking."""

import threading
import time
from pathlib import Path

import pytest

from rinnovo.devstack import LocalStack, kafka_version
from rinnovo.devstack._server import cached_install
from rinnovo.devstack.ferretdb import ferretdb_version
from rinnovo.devstack.kafka import KafkaServer


def test_external_servers_from_the_environment_start_nothing() -> None:
    stack = LocalStack(
        environ={
            "KAFKA_BOOTSTRAP_SERVERS": "kafka.example:9092",
            "MONGODB_URL": "mongodb://mongo.example:27017/",
        }
    )
    with stack:
        assert stack.kafka is None
        assert stack.ferretdb is None
        assert stack.kafka_bootstrap_servers == "kafka.example:9092"
        assert stack.mongodb_url == "mongodb://mongo.example:27017/"
        assert stack.env() == {
            "KAFKA_BOOTSTRAP_SERVERS": "kafka.example:9092",
            "MONGODB_URL": "mongodb://mongo.example:27017/",
        }


def test_versions_come_from_the_build_recipes() -> None:
    assert kafka_version().startswith("4.")
    assert ferretdb_version().startswith("1.24.")


def test_broker_properties_for_a_single_node(tmp_path: Path) -> None:
    kafka = KafkaServer(tmp_path, port=19092, controller_port=19093, properties={"x.y": "1"})
    props = kafka.properties()
    assert props["process.roles"] == "broker,controller"
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093"
    assert props["controller.quorum.voters"] == "1@127.0.0.1:19093"
    assert props["offsets.topic.replication.factor"] == "1"
    assert props["auto.create.topics.enable"] == "true"
    assert props["x.y"] == "1"
    assert kafka.bootstrap_servers == "127.0.0.1:19092"
    assert kafka.client_options() == {}


def test_broker_properties_with_sasl(tmp_path: Path) -> None:
    """Clients reach only a SASL_PLAINTEXT listener (SCRAM-SHA-512); the broker logs in to
    itself as its own user. A whole journey runs on such a broker in tests/e2e."""
    kafka = KafkaServer(tmp_path, port=19092, controller_port=19093, sasl_users={"svc": "pw"})
    props = kafka.properties()
    assert props["listeners"] == "SASL_PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093"
    assert props["advertised.listeners"] == "SASL_PLAINTEXT://127.0.0.1:19092"
    assert props["sasl.enabled.mechanisms"] == "SCRAM-SHA-512"
    login = props["listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config"]
    assert f'username="broker" password="{kafka.sasl_users["broker"]}";' in login
    assert kafka.client_options("svc") == {
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "svc",
        "sasl_plain_password": "pw",
    }


def test_concurrent_installs_build_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RINNOVO_CACHE_DIR", str(tmp_path / "cache"))
    target = tmp_path / "cache" / "thing-1"
    builds: list[int] = []

    def build(into: Path) -> None:
        builds.append(1)
        time.sleep(0.3)
        (into / "artifact").write_text("built")

    def install() -> None:
        cached_install(target, "digest-1", build, what="x")

    threads = [threading.Thread(target=install) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(builds) == 1
    assert (target / "artifact").read_text() == "built"

    cached_install(target, "digest-1", build, what="x")
    assert len(builds) == 1
    cached_install(target, "digest-2", build, what="x")  # the recipe changed: rebuilt
    assert len(builds) == 2
    assert not [p for p in target.parent.iterdir() if p.name.startswith(".thing-1.")]


def test_a_failed_build_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RINNOVO_CACHE_DIR", str(tmp_path / "cache"))
    target = tmp_path / "cache" / "thing-1"

    def build(into: Path) -> None:
        (into / "half").write_text("")
        raise RuntimeError("network down")

    with pytest.raises(RuntimeError, match="network down"):
        cached_install(target, "digest-1", build, what="x")
    assert not target.exists()
    assert [p.name for p in target.parent.iterdir()] == ["locks"]
