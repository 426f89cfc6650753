"""The running system and the outside world's ways in and out of it.

The system is driven only through what the outside world uses: the services' HTTP APIs,
signed provider callbacks, bank statements, events published as the panel publishes them. It
is read as an integrator reads it: every topic, with a plain aiokafka consumer, each event
checked against the published schema, against the schema each consuming service declares in
its AsyncAPI document, and against the model the consumers decode it with.
"""

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from httpx import AsyncClient
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from rinnovo.contracts.topics import TOPICS
from rinnovo.devstack.services import ServiceProcesses
from rinnovo.devstack.stack import LocalStack
from rinnovo.runtime.auth import AuthSettings, issue_token
from rinnovo.testing.payment_providers import FakeStripe, running_fake_stripe
from rinnovo.testing.smtp import SmtpServer
from tests.e2e.in_flight import InFlight, in_flight

ACCEPTANCES = {
    doc: {"accepted": True, "version": "2025-01"}
    for doc in ("general_conditions", "unfair_terms", "privacy")
}


@dataclass
class System:
    """The running system and the outside world's ways in and out of it."""

    processes: ServiceProcesses
    stack: LocalStack
    prefix: str
    databases: dict[str, str]
    groups: dict[str, str]
    smtp: SmtpServer
    stripe: FakeStripe
    auth: AuthSettings
    webhook_secret: str
    producer: AIOKafkaProducer
    kafka_options: dict[str, str] = field(default_factory=dict)
    """How the test's own Kafka clients log in (a broker with SASL)."""
    checked: set[str] = field(default_factory=set)
    """Ids of the events already checked against the contracts."""

    # ---- HTTP, as customers, operators and providers reach it ----

    def client(self, service: str, subject: str | None = None, *roles: str) -> AsyncClient:
        headers = {}
        if subject is not None:
            token = issue_token(self.auth, subject, set(roles))
            headers["Authorization"] = f"Bearer {token}"
        return AsyncClient(base_url=self.processes.url(service), headers=headers, timeout=30)

    def customer(self, customer_id: str, service: str = "orders") -> AsyncClient:
        return self.client(service, customer_id, "customer")

    def admin(self, service: str) -> AsyncClient:
        return self.client(service, "ops", "admin")

    async def advance(self, *, days: int = 0, seconds: int = 0) -> None:
        """Move every service's clock by the same amount: the whole system lives it."""
        for name in self.databases:  # the services with a clock of their own
            async with self.admin(name) as admin:
                moved = await admin.post(
                    "/v1/admin/clock/advance", json={"days": days, "seconds": seconds}
                )
                assert moved.status_code == 200, moved.text

    async def publish(self, topic: str, body: dict[str, Any], key: str) -> None:
        """Publish as another platform does (the panel's usage reports)."""
        await self.producer.send_and_wait(
            self.prefix + topic, json.dumps(body).encode(), key=key.encode()
        )

    # ---- what an integrator and a customer see ----

    async def events(self, topic: str) -> list[dict[str, Any]]:
        """Every event on a topic so far, read to its end by a plain consumer, each checked
        against the published contracts."""
        records = await read_to_end(
            self.stack.kafka_bootstrap_servers, self.prefix + topic, **self.kafka_options
        )
        found = [json.loads(r) for r in records]
        for event in found:
            if event["event_id"] not in self.checked:
                check_event(topic, event)
                self.checked.add(event["event_id"])
        return found

    async def types(self, topic: str) -> list[str]:
        return [e["type"] for e in await self.events(topic)]

    def mails_to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.smtp.inbox.messages if address in str(m["To"])]

    async def in_flight(self) -> InFlight:
        return await in_flight(
            {"bootstrap_servers": self.stack.kafka_bootstrap_servers, **self.kafka_options},
            self.stack.mongodb_url,
            self.prefix,
            self.databases,
            self.groups,
        )

    async def settled(self, timeout: float = 300.0) -> None:
        """Until nothing is in flight (``tests/e2e/in_flight.py``): what a check reads after
        this is every fact the system will produce, late ones included."""
        last: InFlight | None = None

        async def quiet() -> bool:
            nonlocal last
            now = await self.in_flight()
            settled = now.idle and now == last
            last = now
            return settled

        await eventually(quiet, timeout, "every outbox drained and every group caught up", 0.5)


# ---- the contracts every event is checked against ----

ROOT = Path(__file__).resolve().parents[2]
PUBLISHED = ROOT / "shared" / "contracts" / "schemas"
ASYNCAPI = ROOT / "docs" / "asyncapi"


@cache
def published_schema(topic: str, event_type: str) -> jsonschema.protocols.Validator:
    schema = json.loads((PUBLISHED / topic / f"{event_type}.json").read_text())
    validator: jsonschema.protocols.Validator = jsonschema.Draft202012Validator(schema)
    return validator


@cache
def consumers_schemas(topic: str) -> dict[str, jsonschema.protocols.Validator]:
    """For each service that consumes ``topic``, the message schema its AsyncAPI document
    declares it receives there."""
    found: dict[str, jsonschema.protocols.Validator] = {}
    for path in sorted(ASYNCAPI.glob("*.json")):
        document = json.loads(path.read_text())
        uri = f"urn:asyncapi:{path.stem}"
        registry: Registry[Any] = Registry().with_resource(
            uri, Resource.from_contents(document, default_specification=DRAFT202012)
        )
        for operation in document["operations"].values():
            channel = resolve(document, operation["channel"]["$ref"])
            if operation["action"] != "receive" or channel["address"] != topic:
                continue
            [message_ref] = operation["messages"]
            payload_ref = resolve(document, message_ref["$ref"])["payload"]["$ref"]
            found[path.stem] = jsonschema.Draft202012Validator(
                {"$ref": uri + payload_ref}, registry=registry
            )
    return found


def resolve(document: dict[str, Any], ref: str) -> dict[str, Any]:
    node: Any = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
        if isinstance(node, dict) and "$ref" in node and len(node) == 1:
            node = resolve(document, node["$ref"])
    result: dict[str, Any] = node
    return result


def check_event(topic: str, event: dict[str, Any]) -> None:
    """An event as it was on the wire holds to its published schema, to each consumer's
    declared schema, and parses as the model the consumers decode it with."""
    published_schema(topic, event["type"]).validate(event)
    consumers = consumers_schemas(topic)
    for validator in consumers.values():
        validator.validate(event)
    TOPICS[topic].parse(json.dumps(event))


async def read_to_end(bootstrap: str, topic: str, **options: str) -> list[bytes]:
    """Every record's value, from the beginning to the end offsets read at the start."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        **options,
    )
    await consumer.start()
    try:
        async with asyncio.timeout(30):
            while not consumer.assignment():  # without a group: every partition, once known
                await asyncio.sleep(0.05)
            partitions = sorted(consumer.assignment())
            await consumer.seek_to_beginning(*partitions)
            ends = await consumer.end_offsets(partitions)
            values: list[bytes] = []
            for tp in partitions:
                while await consumer.position(tp) < ends[tp]:
                    batch = await consumer.getmany(tp, timeout_ms=500)
                    values.extend(r.value for r in batch.get(tp, []) if r.value is not None)
        return values
    finally:
        await consumer.stop()


async def eventually(
    check: Callable[[], Awaitable[bool]],
    timeout: float = 60.0,
    what: str = "condition",
    every: float = 0.2,
) -> None:
    try:
        async with asyncio.timeout(timeout):
            while not await check():
                await asyncio.sleep(every)
    except TimeoutError:
        raise AssertionError(f"{what}: not within {timeout:.0f}s") from None


def service_environment(
    stack: LocalStack, prefix: str, databases: dict[str, str], groups: dict[str, str]
) -> dict[str, str]:
    """The configuration a deployment of this test's system gets: the defaults (polling is
    only the fallback: each service wakes its relay, deliverer and schedulers itself), quick
    retries of the e-mail server, clocks an admin may move, and development mode (the test's
    own auth key is random, but other defaults stay the public development ones)."""
    env = {
        **stack.env(),
        "RINNOVO_DEV_MODE": "true",
        "KAFKA_TOPIC_PREFIX": prefix,
        "RINNOVO_AUTH_SECRET": uuid.uuid4().hex,
        "RINNOVO_NOTIFIER_RETRY_INITIAL_SECONDS": "1",
        "RINNOVO_NOTIFIER_RETRY_MAX_SECONDS": "2",
        # A killed notifier's claimed deliveries are taken up again within the tests' patience.
        "RINNOVO_NOTIFIER_DELIVERY_LEASE_SECONDS": "30",
        "RINNOVO_NOTIFIER_SMTP_STARTTLS": "false",
        "RINNOVO_NOTIFIER_MESSAGE_ID_DOMAIN": "notifier.example.it",
    }
    for name in databases:
        upper = name.upper()
        env[f"RINNOVO_{upper}_DATABASE"] = databases[name]
        env[f"RINNOVO_{upper}_CONSUMER_GROUP"] = groups[name]
        env[f"RINNOVO_{upper}_TIME_TRAVEL"] = "true"
        env[f"RINNOVO_{upper}_LOG_JSON"] = "true"
    return env


async def catalog_replicated(system: System) -> None:
    """Orders and payments know the seed catalog (orders' replica shows all products)."""

    async def replicated() -> bool:
        async with system.customer("probe") as probe:
            return len((await probe.get("/v1/catalog/products")).json()) == 3

    await eventually(replicated, what="the catalog replicated to orders")


BACKEND = ("catalog", "orders", "payments", "notifier")
SERVICE_USER, OBSERVER = "rinnovo", "observer"
"""Kafka users of a broker with SASL: the services', and the tests' own clients'."""


@contextlib.asynccontextmanager
async def running_system(
    stack: LocalStack,
    smtp: SmtpServer,
    log_dir: Path,
    *,
    portal: Mapping[str, str] | None = None,
    kafka_user: str | None = None,
    replicas: Mapping[str, int] | None = None,
    environment: Mapping[str, str] | None = None,
) -> AsyncIterator[System]:
    """The four services as processes with topics, databases and groups of their own, ready
    and knowing the catalog; with ``portal`` (its settings), the portal in front of them; on
    a broker with SASL, each service logs in as ``kafka_user`` and the test's own clients as
    ``OBSERVER``; ``replicas``: more than one process of some services, in one group;
    ``environment`` adds to every service's settings (tracing's). Afterwards every event
    published is checked against the contracts."""
    run = uuid.uuid4().hex[:8]
    prefix = f"e{run}."
    databases = {name: f"e2e_{run}_{name}" for name in BACKEND}
    groups = {name: f"e{run}-{name}" for name in BACKEND}
    webhook_secret = f"whsec_{uuid.uuid4().hex}"
    env = service_environment(stack, prefix, databases, groups) | dict(environment or {})
    names = (*BACKEND, "portal") if portal is not None else BACKEND
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
        processes = ServiceProcesses(env, log_dir, names, replicas=replicas)
        processes.env["RINNOVO_PAYMENTS_PUBLIC_BASE_URL"] = processes.url("payments")
        if portal is not None:
            processes.env |= {
                f"RINNOVO_PORTAL_{name.upper()}_URL": processes.url(name)
                for name in ("orders", "payments", "notifier")
            }
            processes.env |= portal
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
