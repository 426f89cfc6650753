"""The whole system as it runs: the four services as separate processes on the real servers.

Each test gets its own topics (a prefix), databases and consumer groups, a real SMTP server
that keeps every e-mail, and a local stand-in for Stripe's API (``tests/e2e/system.py``).
"""

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from rinnovo.contracts.topics import TOPICS
from rinnovo.devstack.services import ServiceProcesses
from rinnovo.devstack.stack import LocalStack
from rinnovo.notifier.testing import SmtpServer
from rinnovo.payments.testing import running_fake_stripe
from rinnovo.runtime.auth import AuthSettings
from tests.e2e.system import System, catalog_replicated, service_environment


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


@asynccontextmanager
async def running_system(
    stack: LocalStack, smtp: SmtpServer, log_dir: Path, kafka_user: str | None = None
) -> AsyncIterator[System]:
    """The four services on ``stack``; on a broker with SASL, each logs in as ``kafka_user``
    and the test's own clients as ``observer``."""
    run = uuid.uuid4().hex[:8]
    prefix = f"e{run}."
    names = ("catalog", "orders", "payments", "notifier")
    databases = {name: f"e2e_{run}_{name}" for name in names}
    groups = {name: f"e{run}-{name}" for name in names}
    webhook_secret = f"whsec_{uuid.uuid4().hex}"
    env = service_environment(stack, prefix, databases, groups)
    kafka_options: dict[str, str] = {}
    if kafka_user is not None:
        env |= stack.kafka_client_env(kafka_user)
        assert stack.kafka is not None
        kafka_options = stack.kafka.client_options(OBSERVER)
    async with running_fake_stripe() as stripe:
        env |= {
            "RINNOVO_PAYMENTS_STRIPE_API_BASE": stripe.url,
            "RINNOVO_PAYMENTS_STRIPE_API_KEY": "sk_test_e2e",
            "RINNOVO_PAYMENTS_STRIPE_WEBHOOK_SECRET": webhook_secret,
            "RINNOVO_NOTIFIER_SMTP_PORT": str(smtp.port),
        }
        processes = ServiceProcesses(env, log_dir, names)
        processes.env["RINNOVO_PAYMENTS_PUBLIC_BASE_URL"] = processes.url("payments")
        producer = AIOKafkaProducer(
            bootstrap_servers=stack.kafka_bootstrap_servers, **kafka_options
        )
        processes.start_all()
        try:
            await asyncio.to_thread(processes.wait_ready, None, 180)
            await producer.start()
            system = System(
                processes=processes,
                stack=stack,
                prefix=prefix,
                databases=databases,
                groups=groups,
                smtp=smtp,
                stripe=stripe,
                auth=AuthSettings(secret=env["RINNOVO_AUTH_SECRET"]),
                webhook_secret=webhook_secret,
                producer=producer,
                kafka_options=kafka_options,
            )
            await catalog_replicated(system)
            yield system
            # Whatever the test looked at, every event any service published in it holds
            # to the contracts.
            for topic in TOPICS:
                if TOPICS[topic].producer in names:
                    await system.events(topic)
        finally:
            await producer.stop()
            await asyncio.to_thread(processes.stop_all)


@pytest.fixture
async def system(
    local_stack: LocalStack, smtp: SmtpServer, tmp_path: Path
) -> AsyncIterator[System]:
    async with running_system(local_stack, smtp, tmp_path / "logs") as system:
        yield system


SERVICE_USER, OBSERVER = "rinnovo", "observer"


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
    async with running_system(sasl_stack, smtp, tmp_path / "logs", SERVICE_USER) as system:
        yield system
