"""The system on a local Kafka cluster: three brokers, replicas of the services."""

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from rinnovo.devstack.cluster import ClusterShape
from rinnovo.devstack.stack import LocalStack
from rinnovo.testing.smtp import SmtpServer
from tests.e2e.system import System, running_system

REPLICAS = {"orders": 2, "payments": 2, "notifier": 2}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/cluster/" in item.nodeid.replace("\\", "/"):
            item.add_marker(pytest.mark.cluster)


@pytest.fixture(scope="module")
def cluster_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """Its own servers (whatever the environment names): the test kills brokers."""
    with LocalStack(
        tmp_path_factory.mktemp("devstack-cluster"), environ={}, kafka_cluster=ClusterShape()
    ) as stack:
        yield stack


@pytest.fixture
async def system(
    cluster_stack: LocalStack, smtp: SmtpServer, tmp_path: Path
) -> AsyncIterator[System]:
    async with running_system(cluster_stack, smtp, tmp_path / "logs", replicas=REPLICAS) as system:
        yield system
