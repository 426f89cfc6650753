"""A single-node Apache Kafka broker (KRaft, broker+controller) run from Maven Central jars."""

from __future__ import annotations

import base64
import functools
import logging
import os
import secrets
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rinnovo.devstack import _process
from rinnovo.devstack._paths import cache_dir, fingerprint, recipes_dir
from rinnovo.devstack._server import ManagedServer, cached_install, run_coroutine_blocking
from rinnovo.devstack.errors import DevStackError

log = logging.getLogger("rinnovo.devstack")

NODE_ID = 1
SCRAM = "SCRAM-SHA-512"
BROKER_USER = "broker"


def _pom() -> Path:
    return recipes_dir() / "kafka" / "pom.xml"


def log4j2_config() -> Path:
    return recipes_dir() / "kafka" / "log4j2.xml"


@functools.cache
def kafka_version() -> str:
    """The Kafka version pinned in ``deploy/local/kafka/pom.xml``."""
    namespace = {"m": "http://maven.apache.org/POM/4.0.0"}
    node = ET.parse(_pom()).getroot().find("m:properties/m:kafka.version", namespace)
    if node is None or not (node.text or "").strip():
        raise DevStackError(f"no <kafka.version> property in {_pom()}")
    return (node.text or "").strip()


def kafka_home() -> Path:
    """Where the broker's jars are installed: ``<cache>/kafka-<version>``."""
    return cache_dir() / f"kafka-{kafka_version()}"


def install_kafka() -> Path:
    """Fetch the broker's jars with Maven into the cache, once. Returns the install dir."""
    pom = _pom()

    def build(target: Path) -> None:
        mvn = _process.find_tool("mvn", purpose="to download Kafka", env_var="RINNOVO_MVN")
        _process.run_tool(
            [
                mvn,
                "-B",
                "-q",
                "--no-transfer-progress",
                "-f",
                str(pom),
                "dependency:copy-dependencies",
                f"-DoutputDirectory={target / 'libs'}",
            ],
            cwd=pom.parent,
            what=f"downloading Kafka {kafka_version()} with Maven",
        )
        if not any((target / "libs").glob("kafka_2.13-*.jar")):
            raise DevStackError(f"Maven did not produce the Kafka jars in {target / 'libs'}")

    return cached_install(kafka_home(), fingerprint([pom]), build, what=f"Kafka {kafka_version()}")


def _new_cluster_id() -> str:
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n")


class KafkaServer(ManagedServer):
    """One Kafka process acting as broker and KRaft controller.

    ``data_dir`` holds ``kraft/`` (the log dirs, formatted on first start), the generated
    ``server.properties``, the broker's ``server.log`` and ``console.log`` (JVM output).

    With ``sasl_users`` (name: password), clients must log in with SASL SCRAM-SHA-512 as one
    of them: the only client listener is ``SASL_PLAINTEXT``. The users (and the broker's own,
    ``broker``) are written into the metadata log when the storage is formatted.
    """

    name = "kafka"

    def __init__(
        self,
        data_dir: Path | str,
        *,
        port: int | None = None,
        controller_port: int | None = None,
        host: str = "127.0.0.1",
        heap: str = "512m",
        properties: Mapping[str, str] | None = None,
        stop_timeout: float = 30.0,
        sasl_users: Mapping[str, str] | None = None,
        node_id: int = NODE_ID,
        cluster_id: str | None = None,
    ) -> None:
        super().__init__(data_dir, port=port, host=host, stop_timeout=stop_timeout)
        self.node_id = node_id
        self.cluster_id = cluster_id
        """Shared by every node of a cluster (:mod:`rinnovo.devstack.cluster`); new if None."""
        self._controller_port = controller_port
        self.heap = heap
        self.extra_properties = dict(properties or {})
        self.sasl_users = dict(sasl_users or {})
        if self.sasl_users:
            self.sasl_users.setdefault(BROKER_USER, secrets.token_urlsafe(24))

    @property
    def version(self) -> str:
        return kafka_version()

    @property
    def controller_port(self) -> int:
        if self._controller_port is None:
            raise DevStackError("kafka: no controller port yet, call start() first")
        return self._controller_port

    @property
    def bootstrap_servers(self) -> str:
        return f"{self.host}:{self.port}"

    def client_options(self, user: str = BROKER_USER) -> dict[str, str]:
        """aiokafka's keyword arguments to log in as ``user`` (none without SASL)."""
        if not self.sasl_users:
            return {}
        return {
            "security_protocol": "SASL_PLAINTEXT",
            "sasl_mechanism": SCRAM,
            "sasl_plain_username": user,
            "sasl_plain_password": self.sasl_users[user],
        }

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "kraft"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "server.log"

    @property
    def properties_file(self) -> Path:
        return self.data_dir / "server.properties"

    def install(self) -> None:
        install_kafka()

    def _allocate_ports(self) -> None:
        missing = [self._port, self._controller_port].count(None)
        if not missing:
            return
        ports = iter(_process.free_ports(missing, self.host))
        if self._port is None:
            self._port = next(ports)
        if self._controller_port is None:
            self._controller_port = next(ports)

    def properties(self) -> dict[str, str]:
        """The broker configuration written to ``server.properties`` at each start."""
        host, port, cport = self.host, self.port, self.controller_port
        props = {
            "process.roles": "broker,controller",
            "node.id": str(self.node_id),
            "controller.quorum.voters": f"{self.node_id}@{host}:{cport}",
            "listeners": f"PLAINTEXT://{host}:{port},CONTROLLER://{host}:{cport}",
            "advertised.listeners": f"PLAINTEXT://{host}:{port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            "log.dirs": str(self.log_dir),
            "num.partitions": "3",
            "default.replication.factor": "1",
            "min.insync.replicas": "1",
            "auto.create.topics.enable": "true",
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "5",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "transaction.state.log.num.partitions": "5",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            # A new group waits this long for more members before its first assignment (3 s
            # by default): replicas started together join as one.
            "group.initial.rebalance.delay.ms": "1000",
            # After a crash (SIGKILL) the restarted broker can only register once the
            # controller has expired its previous session: keep that wait short.
            "broker.heartbeat.interval.ms": "500",
            "broker.session.timeout.ms": "4000",
            # The controller appends a no-op record to the metadata log this often (500 ms
            # by default) so that lag in applying it shows; on an idle node that, and its
            # replication to the broker, is most of the CPU. Only a liveness signal: topics,
            # groups and offsets do not wait on it.
            "metadata.max.idle.interval.ms": "5000",
            "num.network.threads": "2",
            "num.io.threads": "4",
            "log.cleaner.dedupe.buffer.size": str(32 * 1024 * 1024),
        }
        if self.sasl_users:
            props |= self._sasl_properties()
        props.update(self.extra_properties)
        return props

    def _sasl_properties(self) -> dict[str, str]:
        host, port, cport = self.host, self.port, self.controller_port
        login = (
            "org.apache.kafka.common.security.scram.ScramLoginModule required "
            f'username="{BROKER_USER}" password="{self.sasl_users[BROKER_USER]}";'
        )
        return {
            "listeners": f"SASL_PLAINTEXT://{host}:{port},CONTROLLER://{host}:{cport}",
            "advertised.listeners": f"SASL_PLAINTEXT://{host}:{port}",
            "inter.broker.listener.name": "SASL_PLAINTEXT",
            "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT",
            "sasl.enabled.mechanisms": SCRAM,
            "sasl.mechanism.inter.broker.protocol": SCRAM,
            f"listener.name.sasl_plaintext.{SCRAM.lower()}.sasl.jaas.config": login,
        }

    def _java_command(self, main_class: str, *args: str) -> list[str]:
        java = _process.find_tool(
            "java", purpose="to run the Kafka broker (Java 17+)", env_var="RINNOVO_JAVA"
        )
        java_home = os.environ.get("JAVA_HOME")
        if "RINNOVO_JAVA" not in os.environ and java_home:
            candidate = Path(java_home) / "bin" / "java"
            if candidate.is_file():
                java = str(candidate)
        return [
            java,
            f"-Xmx{self.heap}",
            "-Xms64m",
            "-XX:+UseSerialGC",
            "-XX:+ExitOnOutOfMemoryError",
            "-XX:-UsePerfData",
            "-Xshare:auto",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={log4j2_config()}",
            f"-Dkafka.logs.dir={self.data_dir}",
            "-cp",
            str(kafka_home() / "libs" / "*"),
            main_class,
            *args,
        ]

    def _prepare(self) -> list[str]:
        self.properties_file.write_text(
            "".join(f"{key}={_escape(value)}\n" for key, value in self.properties().items())
        )
        if not (self.log_dir / "meta.properties").is_file():
            _process.run_tool(
                self._java_command(
                    "kafka.tools.StorageTool",
                    "format",
                    "--ignore-formatted",
                    # One id in 64 starts with "-": as a separate word it reads as an option.
                    f"--cluster-id={self.cluster_id or _new_cluster_id()}",
                    "--config",
                    str(self.properties_file),
                    *(
                        f"--add-scram={SCRAM}=[name={user},password={password}]"
                        for user, password in self.sasl_users.items()
                    ),
                ),
                cwd=self.data_dir,
                what="formatting the Kafka storage",
                timeout=120.0,
            )
        return self._java_command("kafka.Kafka", str(self.properties_file))

    def _probe(self, timeout: float) -> None:
        info = run_coroutine_blocking(
            lambda: _describe_cluster(self.bootstrap_servers, timeout, self.client_options())
        )
        if info.get("coordinator") is None:
            raise DevStackError("no group coordinator yet (the offsets topic is being created)")
        brokers = [broker.get("node_id") for broker in info.get("brokers", [])]
        controller = info.get("controller_id")
        if self.node_id not in brokers or controller in (None, -1):
            raise DevStackError(f"cluster not ready yet: brokers={brokers} controller={controller}")


async def _describe_cluster(
    bootstrap_servers: str, request_timeout: float, options: Mapping[str, str]
) -> dict[str, Any]:
    from aiokafka.admin import AIOKafkaAdminClient  # type: ignore[import-untyped,unused-ignore]
    from aiokafka.errors import KafkaError  # type: ignore[import-untyped,unused-ignore]

    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap_servers,
        client_id="rinnovo-devstack-probe",
        request_timeout_ms=max(500, int(request_timeout * 1000)),
        **options,
    )
    try:
        await admin.start()
        info: dict[str, Any] = await admin.describe_cluster()
        # Asking for a group's coordinator creates the offsets topic on fresh data; ready
        # means consumer groups work, so services starting next never find it missing.
        try:
            info["coordinator"] = await admin.find_coordinator("rinnovo-devstack-probe")
        except KafkaError:
            info["coordinator"] = None
    finally:
        await admin.close()
    return info
