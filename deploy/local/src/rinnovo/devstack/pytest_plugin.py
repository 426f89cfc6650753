"""Pytest fixtures for the local stack. Register with
``pytest_plugins = ["rinnovo.devstack.pytest_plugin"]`` in the root ``conftest.py``.

``local_stack`` (session scope) is a started :class:`LocalStack`: external servers when
``KAFKA_BOOTSTRAP_SERVERS`` / ``MONGODB_URL`` are set, else local ones with their data in a
pytest temporary directory (kept after the run, with the servers' logs, for diagnosis).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from rinnovo.devstack.stack import LocalStack


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "integration: talks to the real Kafka broker and MongoDB-wire server"
    )


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with LocalStack(tmp_path_factory.mktemp("devstack")) as stack:
        yield stack


@pytest.fixture(scope="session")
def kafka_bootstrap_servers(local_stack: LocalStack) -> str:
    return local_stack.kafka_bootstrap_servers


@pytest.fixture(scope="session")
def mongodb_url(local_stack: LocalStack) -> str:
    return local_stack.mongodb_url
