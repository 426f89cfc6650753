"""The whole system as processes on the real servers, with the portal in front, and a fresh
Chromium for each test.

One system serves all the browser tests (starting five processes is the slow part); each
test brings its own customers, so they never see each other's services. The portal runs in
development mode, as ``make run`` starts it: demo data and the development sign-in page are
there too.
"""

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from playwright.async_api import BrowserContext

from rinnovo.devstack.stack import LocalStack
from rinnovo.testing.smtp import SmtpServer
from tests.browser.browser import axe_source, chromium, screenshots_dir
from tests.e2e.system import System, running_system


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in item.nodeid.replace("\\", "/"):
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def browser_smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
async def system(
    local_stack: LocalStack, browser_smtp: SmtpServer, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[System]:
    logs = tmp_path_factory.mktemp("browser") / "logs"
    portal: dict[str, str] = {}  # development mode, as every service of the test gets
    async with running_system(local_stack, browser_smtp, logs, portal=portal) as running:
        yield running


@pytest.fixture(scope="session")
def axe() -> str:
    return axe_source()


@pytest.fixture
async def browser(tmp_path: Path) -> AsyncIterator[BrowserContext]:
    async with chromium(tmp_path / "profile") as context:
        yield context


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    return screenshots_dir(tmp_path / "screenshots")
