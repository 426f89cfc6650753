"""A local Kafka cluster's configuration and service replicas' identities, without starting
anything (tests/cluster runs them)."""

from pathlib import Path

import pytest

from rinnovo.devstack.cluster import ClusterShape, KafkaCluster
from rinnovo.devstack.errors import DevStackError
from rinnovo.devstack.services import ServiceProcesses


def test_three_nodes_form_one_quorum_and_replicate_each_partition_three_times(
    tmp_path: Path,
) -> None:
    cluster = KafkaCluster(tmp_path)
    nodes = cluster.nodes
    assert sorted(nodes) == [1, 2, 3]
    voters = {node.properties()["controller.quorum.voters"] for node in nodes.values()}
    [quorum] = voters
    assert quorum == ",".join(f"{i}@127.0.0.1:{nodes[i].controller_port}" for i in nodes)
    assert len({node.cluster_id for node in nodes.values()}) == 1
    for node_id, node in nodes.items():
        props = node.properties()
        assert props["node.id"] == str(node_id)
        assert props["process.roles"] == "broker,controller"
        assert (props["num.partitions"], props["default.replication.factor"]) == ("6", "3")
        assert props["min.insync.replicas"] == "2"
        assert props["offsets.topic.replication.factor"] == "3"
        assert props["unclean.leader.election.enable"] == "false"
        assert node.data_dir == tmp_path / f"kafka-{node_id}"
    ports = [n.port for n in nodes.values()] + [n.controller_port for n in nodes.values()]
    assert len(set(ports)) == 6
    assert cluster.bootstrap_servers == ",".join(n.bootstrap_servers for n in nodes.values())
    assert cluster.env()["KAFKA_TOPIC_PARTITIONS"] == "6"
    assert cluster.env()["KAFKA_REPLICATION_FACTOR"] == "3"


def test_a_shape_that_cannot_hold_its_replicas_is_refused() -> None:
    with pytest.raises(DevStackError):
        ClusterShape(brokers=2, replication=3)
    with pytest.raises(DevStackError):
        ClusterShape(min_insync=4)


def test_replicas_have_ports_of_their_own_and_their_service_s_settings(tmp_path: Path) -> None:
    processes = ServiceProcesses(
        {"KAFKA_TOPIC_PREFIX": "p."}, tmp_path, ("catalog", "orders"), replicas={"orders": 2}
    )
    assert processes.replicas("orders") == ["orders", "orders-2"]
    assert processes.replicas("catalog") == ["catalog"]
    assert len(set(processes.ports.values())) == 3
    env = processes.env_of("orders-2")
    assert env["RINNOVO_ORDERS_HTTP_PORT"] == str(processes.ports["orders-2"])
    assert env["KAFKA_TOPIC_PREFIX"] == "p."
    # Until a replica is known ready, a service's address is its first replica's.
    assert processes.url("orders") == f"http://127.0.0.1:{processes.ports['orders']}"
    assert processes.url("orders-2") == f"http://127.0.0.1:{processes.ports['orders-2']}"
