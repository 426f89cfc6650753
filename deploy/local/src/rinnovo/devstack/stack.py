"""The whole local stack: Kafka + a MongoDB-wire server, or external ones from the environment."""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import tempfile
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import IO, Self

from rinnovo.devstack.cluster import ClusterShape, KafkaCluster
from rinnovo.devstack.errors import DevStackError
from rinnovo.devstack.ferretdb import FerretDBServer, install_ferretdb
from rinnovo.devstack.kafka import KafkaServer, install_kafka
from rinnovo.devstack.registry import RegistryServer, install_registry

log = logging.getLogger("rinnovo.devstack")

KAFKA_ENV = "KAFKA_BOOTSTRAP_SERVERS"
MONGODB_ENV = "MONGODB_URL"
REGISTRY_ENV = "SCHEMA_REGISTRY_URL"


def install_all(*, kafka: bool = True, ferretdb: bool = True, registry: bool = False) -> None:
    """Install Kafka, FerretDB and/or the schema registry into the cache (in parallel),
    unless already there."""
    choices = ((install_kafka, kafka), (install_ferretdb, ferretdb), (install_registry, registry))
    jobs = [job for job, wanted in choices if wanted]
    if not jobs:
        return
    with ThreadPoolExecutor(len(jobs), thread_name_prefix="rinnovo-devstack-install") as pool:
        for future in [pool.submit(job) for job in jobs]:
            future.result()


class LocalStack:
    """Kafka and a MongoDB-wire database for development and tests.

    For each part, an address given in the environment (``KAFKA_BOOTSTRAP_SERVERS``,
    ``MONGODB_URL``) is used as is; otherwise a local server is started
    (:class:`KafkaServer`, :class:`FerretDBServer`) with its data under ``data_dir``.
    ``kafka`` and ``ferretdb`` are the local servers' handles (None for an external one), so
    tests can stop, kill and restart them.

    ``data_dir=None`` uses a temporary directory removed at ``stop()``.

    ``registry=True`` also gives a schema registry (``SCHEMA_REGISTRY_URL`` if set, else a
    local :class:`RegistryServer`, ``registry``).

    ``kafka_cluster=ClusterShape()`` starts several Kafka nodes as one cluster instead of one
    (``cluster`` is then their handle and ``kafka`` is None), and ``env()`` tells the
    services the topics' partitions and replication.
    """

    def __init__(
        self,
        data_dir: Path | str | None = None,
        *,
        kafka_port: int | None = None,
        mongo_port: int | None = None,
        environ: Mapping[str, str] | None = None,
        ready_timeout: float = 180.0,
        kafka_sasl_users: Mapping[str, str] | None = None,
        registry: bool = False,
        kafka_cluster: ClusterShape | None = None,
    ) -> None:
        env = os.environ if environ is None else environ
        self._wants_registry = registry
        self._external_registry = env.get(REGISTRY_ENV, "").strip() or None
        self.registry: RegistryServer | None = None
        self._external_kafka = env.get(KAFKA_ENV, "").strip() or None
        self._external_mongodb = env.get(MONGODB_ENV, "").strip() or None
        self._given_data_dir = Path(data_dir).absolute() if data_dir is not None else None
        self._kafka_port = kafka_port
        self._kafka_sasl_users = dict(kafka_sasl_users or {})
        self._mongo_port = mongo_port
        self.ready_timeout = ready_timeout
        self.data_dir: Path | None = None
        self.kafka: KafkaServer | None = None
        self.ferretdb: FerretDBServer | None = None
        self.cluster_shape = kafka_cluster
        self.cluster: KafkaCluster | None = None
        self._temporary = False
        self._lock_handle: IO[bytes] | None = None

    @property
    def kafka_bootstrap_servers(self) -> str:
        if self._external_kafka is not None:
            return self._external_kafka
        if self.cluster is not None:
            return self.cluster.bootstrap_servers
        if self.kafka is None:
            raise DevStackError("the local stack is not started")
        return self.kafka.bootstrap_servers

    @property
    def mongodb_url(self) -> str:
        if self._external_mongodb is not None:
            return self._external_mongodb
        if self.ferretdb is None:
            raise DevStackError("the local stack is not started")
        return self.ferretdb.url

    def env(self) -> dict[str, str]:
        """The variables our services read to find the stack."""
        shape = self.cluster.shape.env() if self.cluster is not None else {}
        env = {KAFKA_ENV: self.kafka_bootstrap_servers, MONGODB_ENV: self.mongodb_url, **shape}
        registry = self._external_registry or (self.registry.url if self.registry else None)
        if self._wants_registry and registry:
            env[REGISTRY_ENV] = registry
        return env

    def kafka_client_env(self, user: str) -> dict[str, str]:
        """The ``KAFKA_*`` variables that log a service in as ``user`` (none without SASL)."""
        if self.kafka is None or not self.kafka.sasl_users:
            return {}
        options = self.kafka.client_options(user)
        return {
            "KAFKA_SECURITY_PROTOCOL": options["security_protocol"],
            "KAFKA_SASL_MECHANISM": options["sasl_mechanism"],
            "KAFKA_SASL_USERNAME": options["sasl_plain_username"],
            "KAFKA_SASL_PASSWORD": options["sasl_plain_password"],
        }

    def install(self) -> None:
        """Install what this stack will start locally (a no-op once cached)."""
        install_all(kafka=self._external_kafka is None, ferretdb=self._external_mongodb is None)

    def start(self) -> None:
        """Start the local servers (both at once) and wait until each answers."""
        if self.kafka is not None or self.ferretdb is not None or self.cluster is not None:
            return
        local_registry = self._wants_registry and self._external_registry is None
        if self._external_kafka and self._external_mongodb and not local_registry:
            return
        self.install()
        self._open_data_dir()
        assert self.data_dir is not None
        try:
            if self._external_kafka is None and self.cluster_shape is not None:
                self.cluster = KafkaCluster(self.data_dir / "kafka-cluster", self.cluster_shape)
                self.cluster.start()
            elif self._external_kafka is None:
                self.kafka = KafkaServer(
                    self.data_dir / "kafka",
                    port=self._kafka_port,
                    sasl_users=self._kafka_sasl_users,
                )
                self.kafka.start()
            if self._external_mongodb is None:
                self.ferretdb = FerretDBServer(self.data_dir / "ferretdb", port=self._mongo_port)
                self.ferretdb.start()
            if self._wants_registry and self._external_registry is None:
                self.registry = RegistryServer(self.data_dir / "registry")
                self.registry.start()
            for server in (self.ferretdb, self.kafka, self.cluster, self.registry):
                if server is not None:
                    server.wait_ready(self.ready_timeout)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop the local servers (concurrently) and release the data dir."""
        servers = [
            s for s in (self.kafka, self.ferretdb, self.cluster, self.registry) if s is not None
        ]
        try:
            if servers:
                with ThreadPoolExecutor(max_workers=len(servers)) as pool:
                    for future in [pool.submit(server.stop) for server in servers]:
                        future.result()
        finally:
            self.kafka = None
            self.ferretdb = None
            self.registry = None
            self.cluster = None
            self._close_data_dir()

    def _open_data_dir(self) -> None:
        if self._given_data_dir is None:
            self.data_dir = Path(tempfile.mkdtemp(prefix="rinnovo-devstack-"))
            self._temporary = True
        else:
            self.data_dir = self._given_data_dir
            self.data_dir.mkdir(parents=True, exist_ok=True)
        handle = (self.data_dir / ".devstack.lock").open("a+b")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise DevStackError(
                f"{self.data_dir} is in use by another running dev stack; stop it or pick "
                "another --data-dir"
            ) from None
        self._lock_handle = handle

    def _close_data_dir(self) -> None:
        if self._lock_handle is not None:
            self._lock_handle.close()
            self._lock_handle = None
        if self._temporary and self.data_dir is not None:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            self._temporary = False

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

    def __repr__(self) -> str:
        kafka = f"external {self._external_kafka}" if self._external_kafka else repr(self.kafka)
        mongo = (
            f"external {self._external_mongodb}" if self._external_mongodb else repr(self.ferretdb)
        )
        return f"<LocalStack kafka={kafka} mongodb={mongo}>"
