"""The whole system as it runs: the four services as separate processes on the real servers.

Each test gets its own topics (a prefix), databases and consumer groups, a real SMTP server
that keeps every e-mail, and a local stand-in for Stripe's API (``tests/e2e/system.py``).
"""

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from rinnovo.devstack.stack import LocalStack
from rinnovo.testing.smtp import SmtpServer
from tests.e2e.system import OBSERVER, SERVICE_USER, System, running_system


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in item.nodeid.replace("\\", "/"):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture
async def system(
    local_stack: LocalStack, smtp: SmtpServer, tmp_path: Path
) -> AsyncIterator[System]:
    async with running_system(local_stack, smtp, tmp_path / "logs") as system:
        yield system


@pytest.fixture
def sasl_stack(local_stack: LocalStack, tmp_path: Path) -> Iterator[LocalStack]:
    """A broker of its own that only lets in clients logged in with SCRAM-SHA-512; the
    session's MongoDB-wire server."""
    users = {SERVICE_USER: uuid.uuid4().hex, OBSERVER: uuid.uuid4().hex}
    with LocalStack(
        tmp_path / "sasl",
        environ={"MONGODB_URL": local_stack.mongodb_url},
        kafka_sasl_users=users,
    ) as stack:
        yield stack


@pytest.fixture
async def sasl_system(
    sasl_stack: LocalStack, smtp: SmtpServer, tmp_path: Path
) -> AsyncIterator[System]:
    async with running_system(
        sasl_stack, smtp, tmp_path / "logs", kafka_user=SERVICE_USER
    ) as system:
        yield system
