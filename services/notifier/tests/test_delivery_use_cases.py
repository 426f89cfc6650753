"""Delivery on the in-memory stores, as ``test_notifier_email`` does on the real servers:
each message sent once per cause, retried with back-off, refused for good, and recorded
once even when the process or the database stops between the send and the record."""

import asyncio
from datetime import timedelta
from typing import Any

import pytest
import stamina
from pymongo.errors import AutoReconnect

from rinnovo.contracts.notifications import NotificationFailed, NotificationSent
from rinnovo.notifier.channels.base import Delivery
from rinnovo.notifier.channels.email import EmailChannel
from rinnovo.notifier.domain.delivery import Outcome
from rinnovo.notifier.domain.identity import message_id
from rinnovo.notifier.service_layer import delivery
from rinnovo.notifier.service_layer.notifications import notify
from rinnovo.testing.notifier import LEASE, POLICY, Notifier, email_id
from rinnovo.testing.notifier_samples import sample
from rinnovo.testing.smtp import Inbox

DOMAIN = "notifier.example.it"


async def test_an_event_delivered_three_times_sends_one_email_and_one_event(
    notifier: Notifier, inbox: Inbox
) -> None:
    confirmed = sample("order_confirmed-bank_transfer")
    nid = email_id(confirmed, "order_confirmed")
    assert await notify(notifier.ctx, confirmed) == 1
    assert await notifier.deliver() == 1
    assert await notify(notifier.ctx, confirmed) == 0  # redelivered after it was sent
    assert await notify(notifier.ctx, confirmed) == 0
    assert await notifier.deliver() == 0

    [received] = inbox.with_id(message_id(nid, DOMAIN))
    assert received["Subject"] == "Ordine RN-2027-000123 confermato: istruzioni per il pagamento"
    assert len(inbox.messages) == 1
    sent = await notifier.stored(nid)
    assert (sent.status.value, sent.attempts, sent.sent_at) == ("sent", 1, notifier.clock.now())
    assert [a.outcome for a in sent.history] == ["sent"]
    [event] = notifier.events()
    assert isinstance(event, NotificationSent)
    stored = await notifier.ctx.notifications.get(nid)
    assert stored is not None and event.aggregate_version == stored.version
    assert (event.causation_id, event.payload.attempts) == (str(confirmed.event_id), 1)


async def test_a_server_away_is_retried_with_back_off_then_sent_once(
    notifier: Notifier, inbox: Inbox
) -> None:
    expiring = sample("expiry_reminder", "en")
    nid = email_id(expiring, "expiry_reminder")
    await notify(notifier.ctx, expiring)
    inbox.rcpt_reply = "421 4.7.0 Try again later"
    assert await notifier.deliver() == 1
    assert await notifier.deliver() == 0  # not due before its back-off
    notifier.clock.advance(POLICY.delay(1))
    assert await notifier.deliver() == 1
    waiting = await notifier.stored(nid)
    assert waiting.status.value == "pending"
    assert [(a.outcome, a.status_code) for a in waiting.history] == [("retry", 421)] * 2
    assert waiting.next_attempt_at == notifier.clock.now() + POLICY.delay(2)

    inbox.rcpt_reply = None
    notifier.clock.advance(POLICY.delay(2))
    assert await notifier.deliver() == 1
    notifier.clock.advance(POLICY.maximum)
    assert await notifier.deliver() == 0  # sent: never due again

    [received] = inbox.messages
    assert received["Message-ID"] == message_id(nid, DOMAIN)
    assert received["Subject"].startswith("Your service 98765432@example.it expires in 30 days")
    sent = await notifier.stored(nid)
    assert [a.outcome for a in sent.history] == ["retry", "retry", "sent"]
    assert sent.attempts == 3
    assert [type(e) for e in notifier.events()] == [NotificationSent]


async def test_a_permanent_refusal_is_recorded_and_emitted_at_once(
    notifier: Notifier, inbox: Inbox
) -> None:
    inbox.rcpt_reply = "550 5.1.1 No such user"
    deactivated = sample("service_deactivated")
    nid = email_id(deactivated, "service_deactivated")
    await notify(notifier.ctx, deactivated)
    assert await notifier.deliver() == 1

    failed = await notifier.stored(nid)
    assert (failed.status.value, failed.attempts) == ("failed", 1)
    assert failed.last_error is not None and "550" in failed.last_error
    assert [(a.outcome, a.status_code) for a in failed.history] == [("refused", 550)]
    [event] = notifier.events()
    assert isinstance(event, NotificationFailed)
    assert (event.aggregate_id, event.causation_id) == (nid, str(deactivated.event_id))
    assert event.payload.customer_id == "c-rossi"
    assert "No such user" in event.payload.reason
    assert inbox.messages == []


async def test_after_the_last_attempt_it_gives_up(notifier: Notifier, inbox: Inbox) -> None:
    inbox.rcpt_reply = "452 4.2.2 Mailbox full"
    expired = sample("service_expired")
    await notify(notifier.ctx, expired)
    for attempt in range(1, POLICY.max_attempts + 1):
        assert await notifier.deliver() == 1
        notifier.clock.advance(POLICY.delay(attempt))
    assert await notifier.deliver() == 0

    failed = await notifier.stored(email_id(expired, "service_expired"))
    assert failed.status.value == "failed"
    assert [a.outcome for a in failed.history] == ["retry"] * 3 + ["gave_up"]
    [event] = notifier.events()
    assert isinstance(event, NotificationFailed)
    assert event.payload.reason.startswith("gave up after 4 attempts: recipient deferred: 452")


class CrashAfterSending(EmailChannel):
    """Sends, then the process 'dies' before the outcome is recorded."""

    async def send(self, delivery: Delivery) -> Outcome:
        await super().send(delivery)
        raise asyncio.CancelledError  # like a killed task: nothing after this runs


async def test_a_crash_between_sending_and_recording_resends_with_the_same_message_id(
    notifier: Notifier, inbox: Inbox
) -> None:
    deactivated = sample("service_deactivated")
    nid = email_id(deactivated, "service_deactivated")
    await notify(notifier.ctx, deactivated)
    email = notifier.ctx.channels["email"]
    assert isinstance(email, EmailChannel)
    crashing = notifier.deliverer(
        email=CrashAfterSending(email.config, email.renderer, notifier.clock)
    )
    with pytest.raises(asyncio.CancelledError):
        await crashing.deliver_due("email")
    assert await notifier.deliver() == 0  # claimed until its lease runs out
    notifier.clock.advance(LEASE)
    assert await notifier.deliver() == 1

    both = inbox.with_id(message_id(nid, DOMAIN))
    assert len(both) == 2  # the same Message-ID: receivers can drop the second
    sent = await notifier.stored(nid)
    assert [(a.number, a.outcome) for a in sent.history] == [(1, "interrupted"), (2, "sent")]
    assert [type(e) for e in notifier.events()] == [NotificationSent]


class AwayForWrites:
    """The store, but its first writes find the database gone (then it is back)."""

    def __init__(self, store: Any, failures: int) -> None:
        self.store = store
        self.failures = failures

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    async def write(self, writes: Any) -> Any:
        if self.failures > 0:
            self.failures -= 1
            raise AutoReconnect("connection refused")
        return await self.store.write(writes)


async def test_the_database_away_between_sending_and_recording_is_waited_out(
    notifier: Notifier, inbox: Inbox
) -> None:
    deactivated = sample("service_deactivated")
    nid = email_id(deactivated, "service_deactivated")
    await notify(notifier.ctx, deactivated)
    away = AwayForWrites(notifier.store, failures=3)
    ctx = notifier.on(away)

    with stamina.set_testing(True, attempts=10):  # the same retries, without their waits
        assert await delivery.deliver_next(ctx, "email", LEASE)

    assert away.failures == 0
    assert len(inbox.with_id(message_id(nid, DOMAIN))) == 1
    sent = await notifier.stored(nid)
    assert [(a.number, a.outcome) for a in sent.history] == [(1, "sent")]
    assert [type(e) for e in notifier.events()] == [NotificationSent]
    assert await notifier.deliver() == 0  # recorded: not sent again


async def test_a_claim_that_ran_out_loses_its_record_to_the_next_claimer(
    notifier: Notifier, inbox: Inbox
) -> None:
    deactivated = sample("service_deactivated")
    nid = email_id(deactivated, "service_deactivated")
    await notify(notifier.ctx, deactivated)
    slow = await notifier.ctx.notifications.claim_next(
        notifier.clock.now(), LEASE, where={"channel": "email"}, fence=True, count="attempts"
    )
    assert slow is not None and slow.value.attempts == 1
    notifier.clock.advance(LEASE + timedelta(seconds=1))
    assert await notifier.deliver() == 1  # another replica takes it over, and sends
    await delivery.attempt(notifier.ctx, slow, LEASE)  # the first one's late outcome

    sent = await notifier.stored(nid)
    assert [(a.number, a.outcome) for a in sent.history] == [(1, "interrupted"), (2, "sent")]
    assert [type(e) for e in notifier.events()] == [NotificationSent]
