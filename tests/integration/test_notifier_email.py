"""The notifier on the real servers: events in from Kafka, e-mails out to a real SMTP server
(aiosmtpd on 127.0.0.1), each message sent once per cause whatever is redelivered or down."""

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from httpx import ASGITransport, AsyncClient
from pymongo import AsyncMongoClient

from rinnovo.contracts import Event
from rinnovo.contracts.topics import NOTIFIER_NOTIFICATION, topic_for
from rinnovo.devstack.ferretdb import FerretDBServer
from rinnovo.devstack.stack import LocalStack
from rinnovo.notifier.adapters.repositories import stores
from rinnovo.notifier.adapters.sealed_secrets import SecretBox
from rinnovo.notifier.bootstrap import NotifierSettings, build
from rinnovo.notifier.channels.base import Delivery
from rinnovo.notifier.channels.email import EmailChannel, SmtpConfig
from rinnovo.notifier.domain.delivery import Outcome, RetryPolicy
from rinnovo.notifier.domain.identity import message_id, notification_id
from rinnovo.notifier.entrypoints.deliverer import Deliverer
from rinnovo.notifier.rendering import Renderer
from rinnovo.notifier.service_layer.context import Context
from rinnovo.notifier.service_layer.notifications import notify
from rinnovo.runtime.auth import AuthSettings, issue_token
from rinnovo.runtime.changes import Changes
from rinnovo.runtime.clock import Clock, SystemClock
from rinnovo.runtime.plugins import BuiltService
from rinnovo.runtime.settings import InfraSettings
from rinnovo.testing.notifier import plain_smtp
from rinnovo.testing.notifier_samples import holder, samples
from rinnovo.testing.smtp import SmtpServer

pytestmark = pytest.mark.integration

Wait = Callable[..., Awaitable[None]]
Reader = Callable[..., Awaitable[list[Any]]]
MESSAGE_ID_DOMAIN = "notifier.example.it"


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """Not started: each test decides when the server is up."""
    server = SmtpServer()
    yield server
    server.stop()


def bearer(subject: str, *roles: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(AuthSettings(), subject, set(roles))}"}


@dataclass
class Notifier:
    built: BuiltService
    infra: InfraSettings
    producer: AIOKafkaProducer

    async def publish(self, event: Event, times: int = 1) -> None:
        topic = self.infra.kafka_topic_prefix + topic_for(type(event)).name
        for _ in range(times):
            await self.producer.send_and_wait(
                topic, event.model_dump_json().encode(), key=event.aggregate_id.encode()
            )

    async def publish_raw(self, topic: str, body: dict[str, Any], key: str) -> None:
        await self.producer.send_and_wait(
            self.infra.kafka_topic_prefix + topic, json.dumps(body).encode(), key=key.encode()
        )

    def client(self, subject: str, *roles: str) -> AsyncClient:
        return AsyncClient(
            transport=ASGITransport(self.built.app),
            base_url="http://notifier",
            headers=bearer(subject, *roles),
        )

    def deliveries(self, outcome: str) -> float:
        """E-mail delivery attempts with this outcome, as the service's metrics count them."""
        registry = self.built.runtime.metrics.registry
        labels = {"channel": "email", "outcome": outcome}
        return registry.get_sample_value("rinnovo_deliveries_total", labels) or 0.0

    async def notifications(self, **filters: str) -> list[dict[str, Any]]:
        async with self.client("ops", "admin") as admin:
            response = await admin.get("/v1/admin/notifications", params=filters)
        assert response.status_code == 200, response.text
        found: list[dict[str, Any]] = response.json()
        return found


def settings(infra: InfraSettings, database: str, smtp_port: int) -> NotifierSettings:
    return NotifierSettings(
        infra=infra,
        database=database,
        outbox_poll_seconds=0.05,
        channels="email",
        smtp_port=smtp_port,
        smtp_starttls=False,
        message_id_domain=MESSAGE_ID_DOMAIN,
        retry_initial_seconds=0.2,
        retry_max_seconds=0.5,
        delivery_poll_seconds=0.1,
    )


@pytest.fixture
async def notifier(
    infra: InfraSettings, database_name: Callable[[str], str], smtp: SmtpServer
) -> AsyncIterator[Notifier]:
    built = build(settings(infra, database_name("notifier"), smtp.port), clock=SystemClock())
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap_servers)
    async with built.runtime.running():
        await producer.start()
        try:
            yield Notifier(built, infra, producer)
        finally:
            await producer.stop()


def sample(name: str, locale: str = "it") -> Event:
    return next(s.event for s in samples(locale) if s.name == name)


def email_id(event: Event, template: str) -> str:
    return notification_id(str(event.event_id), "email", template)


async def until_status(
    notifier: Notifier, wait_until: Wait, nid: str, status: str, timeout: float = 30.0
) -> dict[str, Any]:
    found: dict[str, Any] = {}

    async def reached() -> bool:
        listed = [n for n in await notifier.notifications() if n["notification_id"] == nid]
        if listed:
            found.update(listed[0])
        return bool(listed) and listed[0]["status"] == status

    await wait_until(reached, timeout)
    return found


async def test_the_same_event_delivered_three_times_sends_one_email(
    notifier: Notifier, smtp: SmtpServer, wait_until: Wait, topic_reader: Reader
) -> None:
    smtp.start()
    confirmed = sample("order_confirmed-bank_transfer")
    nid = email_id(confirmed, "order_confirmed")

    await notifier.publish(confirmed)
    await until_status(notifier, wait_until, nid, "sent")
    await notifier.publish(confirmed, times=2)  # redelivered after it was sent
    # Same key, same partition: once this one is sent, the two before it were handled.
    later = sample("automatic_renewal_retry")
    await notifier.publish(later)
    await until_status(notifier, wait_until, email_id(later, "automatic_renewal_retry"), "sent")

    [received] = smtp.inbox.with_id(message_id(nid, MESSAGE_ID_DOMAIN))
    assert received["Subject"] == "Ordine RN-2027-000123 confermato: istruzioni per il pagamento"
    assert len(smtp.inbox.messages) == 2
    [stored] = await notifier.notifications(cause_event_id=str(confirmed.event_id))
    assert (stored["status"], stored["attempts"]) == ("sent", 1)
    assert [a["outcome"] for a in stored["history"]] == ["sent"]
    records = await topic_reader(
        notifier.infra.kafka_bootstrap_servers,
        notifier.infra.kafka_topic_prefix + NOTIFIER_NOTIFICATION.name,
        at_least=2,
    )
    sent = [json.loads(r.value) for r in records]
    assert sorted(e["type"] for e in sent) == ["notifier.notification.sent"] * 2
    assert [e["payload"]["notification_id"] for e in sent].count(nid) == 1

    # The history: a customer sees their own messages only; operators see all.
    async with notifier.client("c-rossi", "customer") as rossi:
        mine = (await rossi.get("/v1/notifications")).json()
        assert {n["template"] for n in mine} == {"order_confirmed", "automatic_renewal_retry"}
        one = (await rossi.get(f"/v1/notifications/{nid}")).json()
        assert "IT60X0542811101000000987654" in one["text"]
    async with notifier.client("c-bianchi", "customer") as bianchi:
        assert (await bianchi.get("/v1/notifications")).json() == []
        assert (await bianchi.get(f"/v1/notifications/{nid}")).status_code == 404
        assert (await bianchi.get("/v1/admin/notifications")).status_code == 403
    assert len(await notifier.notifications(customer_id="c-rossi", status="sent")) == 2
    assert await notifier.notifications(customer_id="c-bianchi") == []


async def test_smtp_down_then_up_sends_once_after(
    notifier: Notifier, smtp: SmtpServer, wait_until: Wait
) -> None:
    expiring = sample("expiry_reminder", "en")
    nid = email_id(expiring, "expiry_reminder")
    await notifier.publish(expiring)

    async def retried_twice() -> bool:
        listed = await notifier.notifications(cause_event_id=str(expiring.event_id))
        return bool(listed) and listed[0]["attempts"] >= 2

    await wait_until(retried_twice)
    [waiting] = await notifier.notifications(cause_event_id=str(expiring.event_id))
    assert waiting["status"] == "pending"
    assert {a["outcome"] for a in waiting["history"]} == {"retry"}

    smtp.start()
    sent = await until_status(notifier, wait_until, nid, "sent")
    await asyncio.sleep(0.7)  # longer than the back-off: room for a second send, were there one

    [received] = smtp.inbox.messages
    assert received["Message-ID"] == message_id(nid, MESSAGE_ID_DOMAIN)
    assert received["Subject"].startswith("Your service 98765432@example.it expires in 30 days")
    assert sent["history"][-1]["outcome"] == "sent"
    assert sent["attempts"] == len(sent["history"]) >= 3
    assert notifier.deliveries("retried") == sent["attempts"] - 1
    assert (notifier.deliveries("sent"), notifier.deliveries("failed")) == (1, 0)


async def test_a_permanent_refusal_is_recorded_and_emitted(
    notifier: Notifier, smtp: SmtpServer, wait_until: Wait, topic_reader: Reader
) -> None:
    smtp.start()
    smtp.inbox.rcpt_reply = "550 5.1.1 No such user"
    deactivated = sample("service_deactivated")
    nid = email_id(deactivated, "service_deactivated")
    await notifier.publish(deactivated)

    failed = await until_status(notifier, wait_until, nid, "failed")

    assert failed["attempts"] == 1
    assert "550" in failed["last_error"]
    assert [(a["outcome"], a["status_code"]) for a in failed["history"]] == [("refused", 550)]
    assert (notifier.deliveries("failed"), notifier.deliveries("sent")) == (1, 0)
    [record] = await topic_reader(
        notifier.infra.kafka_bootstrap_servers,
        notifier.infra.kafka_topic_prefix + NOTIFIER_NOTIFICATION.name,
        at_least=1,
    )
    event = json.loads(record.value)
    assert event["type"] == "notifier.notification.failed"
    assert event["aggregate_id"] == nid
    assert event["causation_id"] == str(deactivated.event_id)
    assert event["payload"]["customer_id"] == "c-rossi"
    assert "No such user" in event["payload"]["reason"]
    assert smtp.inbox.messages == []


async def test_bad_input_goes_to_the_dead_letter_topic_or_falls_back(
    notifier: Notifier, smtp: SmtpServer, wait_until: Wait, topic_reader: Reader
) -> None:
    smtp.start()
    # No recipient: the event cannot be read as the published contract.
    cancelled = json.loads(sample("order_cancelled-customer").model_dump_json())
    del cancelled["payload"]["holder"]["email"]
    await notifier.publish_raw("orders.order.v1", cancelled, key=cancelled["aggregate_id"])
    # Bank transfer instructions without an IBAN: nothing useful to tell the customer.
    confirmed = sample("order_confirmed-bank_transfer")
    no_iban = json.loads(confirmed.model_dump_json())
    no_iban["payload"]["instructions"]["iban"] = None
    await notifier.publish_raw("payments.payment.v1", no_iban, key=confirmed.aggregate_id)
    # A language without templates: Italian.
    german = sample("service_expired")
    german = german.model_copy(
        update={
            "payload": german.payload.model_copy(
                update={
                    "service": german.payload.service.model_copy(update={"holder": holder("de")})
                }
            )
        }
    )
    await notifier.publish(german)

    sent = await until_status(notifier, wait_until, email_id(german, "service_expired"), "sent")
    assert (sent["locale"], sent["requested_locale"]) == ("it", "de")
    assert smtp.inbox.messages[0]["Subject"].startswith("Il servizio 98765432@example.it è scaduto")
    prefix, bootstrap = notifier.infra.kafka_topic_prefix, notifier.infra.kafka_bootstrap_servers
    [no_recipient] = await topic_reader(bootstrap, prefix + "orders.order.v1.DLT", at_least=1)
    headers = {k: v.decode() for k, v in no_recipient.headers}
    assert headers["dlt-reason"] == "schema_violation"
    assert "holder.email" in headers["dlt-error"]
    [incomplete] = await topic_reader(bootstrap, prefix + "payments.payment.v1.DLT", at_least=1)
    headers = {k: v.decode() for k, v in incomplete.headers}
    assert headers["dlt-reason"] == "incomplete_instructions"
    assert "iban" in headers["dlt-error"]
    assert await notifier.notifications(template="order_confirmed") == []


def email_context(db: Any, channel: EmailChannel, clock: Clock) -> Context:
    """The notifier's use cases on its MongoDB stores, with one e-mail channel."""
    kept = stores(db, SecretBox.from_settings([], dev_mode=True))
    return Context(
        notifications=Changes(kept.notifications),
        history=kept.history,
        orders=kept.orders,
        endpoints=kept.endpoints,
        channels={"email": channel},
        clock=clock,
        retry=RetryPolicy(timedelta(seconds=1), timedelta(seconds=1), 5),
        default_locale="it",
    )


class CrashAfterSending(EmailChannel):
    """Sends, then the process 'dies' before the outcome is recorded."""

    async def send(self, delivery: Delivery) -> Outcome:
        await super().send(delivery)
        raise asyncio.CancelledError  # like a killed task: nothing after this runs


async def test_a_crash_between_sending_and_recording_resends_with_the_same_message_id(
    mongo: AsyncMongoClient[dict[str, Any]],
    database_name: Callable[[str], str],
    smtp: SmtpServer,
) -> None:
    """The one window that is left, made visible: the message goes again, recognisably."""
    smtp.start()
    clock = SystemClock()
    db = mongo[database_name("notifier")]
    config = plain_smtp(smtp.port, message_id_domain=MESSAGE_ID_DOMAIN)
    renderer = Renderer({"area_url": "https://area.example.it", "brand": "Area Clienti"})
    channel = EmailChannel(config, renderer, clock)
    ctx = email_context(db, channel, clock)
    deactivated = sample("service_deactivated")
    await notify(ctx, deactivated)
    lease = timedelta(milliseconds=200)
    crashing_channel = CrashAfterSending(config, renderer, clock)
    crashing = Deliverer(
        replace(ctx, channels={"email": crashing_channel}), lease=lease, poll_seconds=1
    )
    with pytest.raises(asyncio.CancelledError):
        await crashing.deliver_due("email")
    await asyncio.sleep(0.3)  # the lease runs out
    restarted = Deliverer(ctx, lease=lease, poll_seconds=1)
    assert await restarted.deliver_due("email") == 1

    nid = email_id(deactivated, "service_deactivated")
    both = smtp.inbox.with_id(message_id(nid, MESSAGE_ID_DOMAIN))
    assert len(both) == 2  # the same Message-ID: receivers can drop the second
    stored = await ctx.notifications.get(nid)
    assert stored is not None
    history = stored.value.history
    assert [(a.number, a.outcome) for a in history] == [(1, "interrupted"), (2, "sent")]


class DatabaseAwayAfterSending(EmailChannel):
    """Sends, then the database stops before the outcome can be recorded; it comes back a
    couple of seconds later."""

    def __init__(self, config: SmtpConfig, renderer: Renderer, database: FerretDBServer) -> None:
        super().__init__(config, renderer, SystemClock())
        self.database = database
        self.back: asyncio.Task[None] | None = None

    async def send(self, delivery: Delivery) -> Outcome:
        outcome = await super().send(delivery)
        await asyncio.to_thread(self.database.stop)
        self.back = asyncio.create_task(self._start_again())
        return outcome

    async def _start_again(self) -> None:
        await asyncio.sleep(2)
        await asyncio.to_thread(self.database.start)
        await asyncio.to_thread(self.database.wait_ready, 120)


async def test_the_database_away_between_sending_and_recording_records_once_without_resending(
    mongo: AsyncMongoClient[dict[str, Any]],
    database_name: Callable[[str], str],
    smtp: SmtpServer,
    local_stack: LocalStack,
) -> None:
    """The outcome of an accepted e-mail is recorded once the database is back, with its
    event in the outbox: not lost, and not sent again."""
    if local_stack.ferretdb is None:
        pytest.skip("the database is external here; this test stops the local one")
    smtp.start()
    clock = SystemClock()
    db = mongo[database_name("notifier")]
    renderer = Renderer({"area_url": "https://area.example.it", "brand": "Area Clienti"})
    channel = DatabaseAwayAfterSending(
        plain_smtp(smtp.port, message_id_domain=MESSAGE_ID_DOMAIN), renderer, local_stack.ferretdb
    )
    ctx = email_context(db, channel, clock)
    deactivated = sample("service_deactivated")
    await notify(ctx, deactivated)
    deliverer = Deliverer(ctx, lease=timedelta(seconds=120), poll_seconds=1)
    try:
        assert await deliverer.deliver_due("email") == 1
    finally:
        if channel.back is not None:
            await channel.back

    nid = email_id(deactivated, "service_deactivated")
    assert len(smtp.inbox.with_id(message_id(nid, MESSAGE_ID_DOMAIN))) == 1
    stored = await db["notifications"].find_one({"_id": nid})
    assert stored is not None
    assert [(h["number"], h["outcome"]) for h in stored["history"]] == [(1, "sent")]
    [sent] = [json.loads(r["value"]) for r in stored["outbox"]]
    assert (sent["type"], sent["aggregate_id"]) == ("notifier.notification.sent", nid)
    assert await deliverer.deliver_due("email") == 0
    assert len(smtp.inbox.messages) == 1
