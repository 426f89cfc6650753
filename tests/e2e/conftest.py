"""The whole system as it runs: the four services as separate processes on the real servers.

Each test gets its own topics (a prefix), databases and consumer groups, a real SMTP server
that keeps every e-mail, and a local stand-in for Stripe's API (``tests/e2e/system.py``).
"""

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from rinnovo.contracts.topics import TOPICS
from rinnovo.devstack.services import ServiceProcesses
from rinnovo.devstack.stack import LocalStack
from rinnovo.runtime.auth import AuthSettings
from rinnovo.testing.payment_providers import running_fake_stripe
from rinnovo.testing.smtp import SmtpServer
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


@pytest.fixture
async def system(
    local_stack: LocalStack, smtp: SmtpServer, tmp_path: Path
) -> AsyncIterator[System]:
    run = uuid.uuid4().hex[:8]
    prefix = f"e{run}."
    names = ("catalog", "orders", "payments", "notifier")
    databases = {name: f"e2e_{run}_{name}" for name in names}
    groups = {name: f"e{run}-{name}" for name in names}
    webhook_secret = f"whsec_{uuid.uuid4().hex}"
    env = service_environment(local_stack, prefix, databases, groups)
    async with running_fake_stripe() as stripe:
        env |= {
            "RINNOVO_PAYMENTS_STRIPE_API_BASE": stripe.url,
            "RINNOVO_PAYMENTS_STRIPE_API_KEY": "sk_test_e2e",
            "RINNOVO_PAYMENTS_STRIPE_WEBHOOK_SECRET": webhook_secret,
            "RINNOVO_NOTIFIER_SMTP_PORT": str(smtp.port),
        }
        processes = ServiceProcesses(env, tmp_path / "logs", names)
        processes.env["RINNOVO_PAYMENTS_PUBLIC_BASE_URL"] = processes.url("payments")
        producer = AIOKafkaProducer(bootstrap_servers=local_stack.kafka_bootstrap_servers)
        processes.start_all()
        try:
            await asyncio.to_thread(processes.wait_ready, None, 180)
            await producer.start()
            system = System(
                processes=processes,
                stack=local_stack,
                prefix=prefix,
                databases=databases,
                groups=groups,
                smtp=smtp,
                stripe=stripe,
                auth=AuthSettings(secret=env["RINNOVO_AUTH_SECRET"]),
                webhook_secret=webhook_secret,
                producer=producer,
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
