"""Pytest fixtures for the local stack. Register with
``pytest_plugins = ["rinnovo.devstack.pytest_plugin"]`` in the root ``conftest.py``.

``local_stack`` (session scope) is a started :class:`LocalStack`: external servers when
``KAFKA_BOOTSTRAP_SERVERS`` / ``MONGODB_URL`` are set, else local ones with their data in a
pytest temporary directory (kept after the run, with the servers' logs, for diagnosis).

Where a Docker engine answers, the servers are containers instead (testcontainers' Kafka and
a ``mongod`` replica set, :mod:`rinnovo.devstack.containers`); ``RINNOVO_TEST_SERVERS=local``
or ``=containers`` chooses explicitly. Tests that stop or kill a server need the local ones.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from rinnovo.devstack.containers import ContainerStack, choose_servers
from rinnovo.devstack.stack import LocalStack


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "integration: talks to the real Kafka broker and MongoDB-wire server"
    )


@pytest.fixture(scope="session")
def local_stack(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[LocalStack | ContainerStack]:
    if choose_servers(os.environ) == "containers":
        with ContainerStack() as containers:
            yield containers
        return
    with LocalStack(tmp_path_factory.mktemp("devstack")) as stack:
        yield stack


@pytest.fixture(scope="session")
def kafka_bootstrap_servers(local_stack: LocalStack | ContainerStack) -> str:
    return local_stack.kafka_bootstrap_servers


@pytest.fixture(scope="session")
def mongodb_url(local_stack: LocalStack | ContainerStack) -> str:
    return local_stack.mongodb_url
