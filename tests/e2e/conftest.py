"""The whole system as it runs: the four services as separate processes on the real servers.

Each test gets its own topics (a prefix), databases and consumer groups, a real SMTP server
that keeps every e-mail, and a local stand-in for Stripe's API (``tests/e2e/system.py``).
"""

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from rinnovo.devstack.stack import LocalStack
from rinnovo.notifier.testing import SmtpServer
from tests.e2e.system import System, running_system


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in item.nodeid.replace("\\", "/"):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def system(
    local_stack: LocalStack, smtp: SmtpServer, tmp_path: Path
) -> AsyncIterator[System]:
    async with running_system(local_stack, smtp, tmp_path / "logs") as system:
        yield system
