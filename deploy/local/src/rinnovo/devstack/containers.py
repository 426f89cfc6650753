"""Kafka and a real ``mongod`` replica set in Docker containers, where a Docker engine is.

The pytest plugin uses these (testcontainers' Kafka and MongoDB modules) when a Docker engine
answers, so the same suites run against MongoDB itself, and the local servers otherwise.
``RINNOVO_TEST_SERVERS`` chooses: ``auto`` (the default), ``local`` or ``containers``.
Servers named in ``KAFKA_BOOTSTRAP_SERVERS`` / ``MONGODB_URL`` are used whatever it says.

The containers are started by testcontainers, which needs the ``testcontainers`` package (a
development dependency) and pulls ``confluentinc/cp-kafka`` (its Kafka module is written for
that image) and ``mongo:8.0``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, Self

from rinnovo.devstack.errors import DevStackError, ServerStartError

SERVERS_ENV = "RINNOVO_TEST_SERVERS"
CHOICES = ("auto", "local", "containers")
KAFKA_IMAGE = "confluentinc/cp-kafka:7.9.0"
MONGO_IMAGE = "mongo:8.0"
REPLICA_SET = "rs0"


def docker_reachable() -> bool:
    """Whether a Docker engine answers a ping (``DOCKER_HOST`` or the default socket)."""
    try:
        import docker  # type: ignore[import-untyped,unused-ignore]

        client = docker.from_env(timeout=3)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:
        return False


def choose_servers(
    environ: Mapping[str, str], reachable: Callable[[], bool] = docker_reachable
) -> str:
    """``local`` or ``containers``: what the test session starts its servers with."""
    choice = environ.get(SERVERS_ENV, "").strip().lower() or "auto"
    if choice not in CHOICES:
        raise DevStackError(f"{SERVERS_ENV}={choice!r}: expected one of {', '.join(CHOICES)}")
    if environ.get("KAFKA_BOOTSTRAP_SERVERS", "").strip() or environ.get("MONGODB_URL", "").strip():
        return "local"  # the given servers are used; LocalStack starts nothing for them
    if choice == "auto":
        return "containers" if reachable() else "local"
    return choice


class ContainerStack:
    """Kafka (KRaft) and a one-member ``mongod`` replica set, each in a container.

    It offers what tests use of :class:`LocalStack`: the addresses and ``env()``. There are no
    handles to stop or kill a server (``kafka``, ``ferretdb`` and ``cluster`` are None), as
    with servers given in the environment.
    """

    kafka = None
    ferretdb = None
    cluster = None

    def __init__(self, kafka_image: str = KAFKA_IMAGE, mongo_image: str = MONGO_IMAGE) -> None:
        self.kafka_image = kafka_image
        self.mongo_image = mongo_image
        self._kafka: Any = None
        self._mongo: Any = None

    @property
    def kafka_bootstrap_servers(self) -> str:
        if self._kafka is None:
            raise DevStackError("the container stack is not started")
        return str(self._kafka.get_bootstrap_server())

    @property
    def mongodb_url(self) -> str:
        if self._mongo is None:
            raise DevStackError("the container stack is not started")
        host = self._mongo.get_container_host_ip()
        port = self._mongo.get_exposed_port(27017)
        # One member, reached directly: its name inside the container means nothing here.
        return f"mongodb://{host}:{port}/?directConnection=true"

    def env(self) -> dict[str, str]:
        return {
            "KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap_servers,
            "MONGODB_URL": self.mongodb_url,
        }

    def start(self) -> None:
        from testcontainers.community.kafka import KafkaContainer
        from testcontainers.community.mongodb import MongoDbContainer

        try:
            self._kafka = KafkaContainer(self.kafka_image).with_kraft()
            self._kafka.start()
            # No users: a replica set with authentication would also need a key file.
            self._mongo = MongoDbContainer(self.mongo_image, username="", password="")
            self._mongo._configure = lambda: None
            self._mongo.with_command(f"--replSet {REPLICA_SET} --bind_ip_all")
            self._mongo.start()
            self._initiate_replica_set()
        except BaseException:
            self.stop()
            raise

    def _initiate_replica_set(self, timeout: float = 60.0) -> None:
        members = f"{{_id: '{REPLICA_SET}', members: [{{_id: 0, host: 'localhost:27017'}}]}}"
        self._mongosh(f"try {{ rs.status() }} catch (e) {{ rs.initiate({members}) }}")
        deadline = time.monotonic() + timeout
        while self._mongosh("db.hello().isWritablePrimary").strip() != "true":
            if time.monotonic() > deadline:
                raise ServerStartError(f"mongod did not become primary in {timeout:.0f}s")
            time.sleep(0.5)

    def _mongosh(self, script: str) -> str:
        code, output = self._mongo.exec(["mongosh", "--quiet", "--eval", script])
        if code != 0:
            raise ServerStartError(f"mongosh failed ({code}): {output.decode(errors='replace')}")
        return str(output.decode(errors="replace"))

    def stop(self) -> None:
        for container in (self._mongo, self._kafka):
            if container is not None:
                container.stop()
        self._mongo = self._kafka = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
