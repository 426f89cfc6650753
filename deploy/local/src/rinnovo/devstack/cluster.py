"""Several local Kafka nodes as one cluster: replication, leaders and their loss, on one box.

Each node is a :class:`KafkaServer` acting as broker and KRaft controller, with its own data
dir and ports; the controllers form one static quorum, so the cluster survives the loss of
any one node. Topics get the settings a production cluster has (by default 6 partitions,
replication 3, ``min.insync.replicas=2``): with the producers' ``acks=all`` a write needs two
live copies, so one broker may die (SIGKILL) without a write being lost or refused.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from rinnovo.devstack import _process
from rinnovo.devstack._server import run_coroutine_blocking
from rinnovo.devstack.errors import DevStackError
from rinnovo.devstack.kafka import KafkaServer


@dataclass(frozen=True)
class ClusterShape:
    brokers: int = 3
    partitions: int = 6
    replication: int = 3
    min_insync: int = 2

    def __post_init__(self) -> None:
        if not 1 <= self.replication <= self.brokers:
            raise DevStackError(f"replication {self.replication} needs as many brokers")
        if not 1 <= self.min_insync <= self.replication:
            raise DevStackError("min.insync.replicas must be between 1 and the replication")

    def env(self) -> dict[str, str]:
        """What the services read to create missing topics the same way."""
        return {
            "KAFKA_TOPIC_PARTITIONS": str(self.partitions),
            "KAFKA_REPLICATION_FACTOR": str(self.replication),
        }


class KafkaCluster:
    """``shape.brokers`` Kafka nodes on this machine, node ids 1..n, data under ``data_dir``."""

    def __init__(
        self,
        data_dir: Path | str,
        shape: ClusterShape | None = None,
        *,
        host: str = "127.0.0.1",
        heap: str = "384m",
    ) -> None:
        self.shape = shape or ClusterShape()
        self.data_dir = Path(data_dir).absolute()
        n = self.shape.brokers
        ports = _process.free_ports(2 * n, host)
        voters = ",".join(f"{i + 1}@{host}:{ports[n + i]}" for i in range(n))
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        self.nodes: dict[int, KafkaServer] = {
            i + 1: KafkaServer(
                self.data_dir / f"kafka-{i + 1}",
                port=ports[i],
                controller_port=ports[n + i],
                host=host,
                heap=heap,
                node_id=i + 1,
                cluster_id=cluster_id,
                properties=self._properties(voters),
            )
            for i in range(n)
        }

    def _properties(self, voters: str) -> dict[str, str]:
        shape = self.shape
        replication, isr = str(shape.replication), str(shape.min_insync)
        return {
            "controller.quorum.voters": voters,
            "num.partitions": str(shape.partitions),
            "default.replication.factor": replication,
            "min.insync.replicas": isr,
            "unclean.leader.election.enable": "false",
            "auto.create.topics.enable": "false",
            "offsets.topic.replication.factor": replication,
            "transaction.state.log.replication.factor": replication,
            "transaction.state.log.min.isr": isr,
            "share.coordinator.state.topic.replication.factor": replication,
            "share.coordinator.state.topic.min.isr": isr,
            # A dead broker's partitions move to another leader quickly.
            "replica.lag.time.max.ms": "10000",
        }

    @property
    def bootstrap_servers(self) -> str:
        return ",".join(node.bootstrap_servers for node in self.nodes.values())

    def env(self) -> dict[str, str]:
        return {"KAFKA_BOOTSTRAP_SERVERS": self.bootstrap_servers, **self.shape.env()}

    def _each(self, job: str, nodes: Iterable[KafkaServer] | None = None) -> None:
        chosen = list(self.nodes.values() if nodes is None else nodes)
        with ThreadPoolExecutor(len(chosen), thread_name_prefix="rinnovo-kafka-cluster") as pool:
            for future in [pool.submit(getattr(node, job)) for node in chosen]:
                future.result()

    def start(self) -> None:
        # Started on this thread (their parent-death signal follows it), awaited together.
        for node in self.nodes.values():
            node.start()

    def wait_ready(self, timeout: float = 180.0) -> None:
        """Every node registered as a broker, with a controller elected."""
        with ThreadPoolExecutor(len(self.nodes), thread_name_prefix="rinnovo-kafka-ready") as pool:
            futures = [pool.submit(node.wait_ready, timeout) for node in self.nodes.values()]
            for future in futures:
                future.result()

    def stop(self) -> None:
        self._each("stop")

    def kill(self, node_id: int) -> None:
        """SIGKILL one node (broker and controller): a crash."""
        self.nodes[node_id].kill()

    def restart(self, node_id: int, timeout: float = 180.0) -> None:
        node = self.nodes[node_id]
        node.stop()
        node.start()
        node.wait_ready(timeout)

    def live_nodes(self) -> list[int]:
        return [i for i, node in self.nodes.items() if node.is_running]

    def partitions(self, topics: Iterable[str]) -> dict[tuple[str, int], PartitionState]:
        """Leader and in-sync replicas of each partition of ``topics``, as the cluster says."""
        wanted = list(topics)
        live = {i: self.nodes[i].bootstrap_servers for i in self.live_nodes()}
        if not live:
            raise DevStackError("no Kafka node is running")
        described = run_coroutine_blocking(lambda: _describe_topics(live, wanted))
        states: dict[tuple[str, int], PartitionState] = {}
        for topic in described:
            for partition in topic["partitions"]:
                key = (topic["topic"], int(partition["partition"]))
                states[key] = PartitionState(
                    leader=int(partition["leader"]),
                    replicas=tuple(int(r) for r in partition["replicas"]),
                    in_sync=tuple(int(r) for r in partition["isr"]),
                )
        return states

    def __enter__(self) -> Self:
        self.start()
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<KafkaCluster {self.shape} nodes={list(self.nodes.values())}>"


@dataclass(frozen=True)
class PartitionState:
    leader: int
    """The leading broker's id, -1 while none leads."""
    replicas: tuple[int, ...]
    in_sync: tuple[int, ...]


async def _describe_topics(live: dict[int, str], topics: list[str]) -> list[dict[str, Any]]:
    from aiokafka.client import AIOKafkaClient  # type: ignore[import-untyped,unused-ignore]
    from aiokafka.errors import KafkaError  # type: ignore[import-untyped,unused-ignore]
    from aiokafka.protocol.metadata import (  # type: ignore[import-untyped,unused-ignore]
        MetadataRequest,
    )

    # Asked of each live node by its id until one answers: a client left to choose would send
    # to whichever node its metadata names, a dead one included, until the cluster notices.
    client = AIOKafkaClient(
        bootstrap_servers=list(live.values()),
        client_id="rinnovo-devstack-cluster",
        request_timeout_ms=10000,
    )
    problem: Exception | None = None
    try:
        await client.bootstrap()
        for node_id in live:
            try:
                response = await client.send(node_id, MetadataRequest(topics))
            except KafkaError as exc:
                problem = exc
                continue
            described: list[dict[str, Any]] = response.to_object()["topics"]
            break
        else:
            raise DevStackError(f"no live node described {topics}: {problem}")
    finally:
        await client.close()
    for topic in described:
        if topic.get("error_code"):
            raise DevStackError(f"cannot describe {topic.get('topic')}: {topic['error_code']}")
    return described
