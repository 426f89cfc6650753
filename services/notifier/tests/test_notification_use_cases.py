"""Events becoming notifications, the history and the webhook endpoints, on the in-memory
stores (as ``test_notifier_email`` and ``test_notifier_webhooks`` do on the real servers)."""

import json

import pytest

from rinnovo.contracts.orders import OrderKind
from rinnovo.notifier.domain.endpoints import InvalidEndpoint
from rinnovo.notifier.domain.identity import notification_id
from rinnovo.notifier.domain.signing import verify
from rinnovo.notifier.service_layer import endpoints, history
from rinnovo.notifier.service_layer.notifications import notify
from rinnovo.notifier.service_layer.ports import Search
from rinnovo.runtime.dead_letters import PoisonMessage
from rinnovo.runtime.errors import NotFound
from rinnovo.testing.notifier import Notifier, email_id
from rinnovo.testing.notifier_samples import holder, order_placed, sample, samples
from rinnovo.testing.smtp import Inbox

SECRET = "whsec-0123456789abcdef0123456789"


async def test_customers_see_their_own_messages_and_operators_see_all(
    notifier: Notifier,
) -> None:
    confirmed = sample("order_confirmed-bank_transfer")
    retry = sample("automatic_renewal_retry")
    expired = sample("service_expired")
    service = expired.payload.service.model_copy(update={"holder": holder(customer_id="c-bianchi")})
    other = expired.model_copy(
        update={"payload": expired.payload.model_copy(update={"service": service})}
    )
    for event in (confirmed, retry, other):
        await notify(notifier.ctx, event)
    assert await notifier.deliver() == 3
    nid = email_id(confirmed, "order_confirmed")

    mine = await history.customer_history(notifier.ctx, "c-rossi", None, 50)
    assert {n.template for n in mine} == {"order_confirmed", "automatic_renewal_retry"}
    one = await history.customer_notification(notifier.ctx, "c-rossi", nid)
    assert "IT60X0542811101000000987654" in one.content["text"]
    with pytest.raises(NotFound):
        await history.customer_notification(notifier.ctx, "c-bianchi", nid)
    theirs = await history.customer_history(notifier.ctx, "c-bianchi", None, 50)
    assert [n.template for n in theirs] == ["service_expired"]
    sent = await history.search_notifications(
        notifier.ctx, Search(customer_id="c-rossi", status="sent")
    )
    assert len(sent) == 2
    by_cause = await history.search_notifications(
        notifier.ctx, Search(cause_event_id=str(confirmed.event_id))
    )
    assert [n.notification_id for n in by_cause] == [nid]
    assert (await history.notification(notifier.ctx, nid)).status.value == "sent"
    with pytest.raises(NotFound):
        await history.notification(notifier.ctx, "nobody")


async def test_events_that_tell_nothing_store_nothing_and_poison_stores_nothing(
    notifier: Notifier,
) -> None:
    renewal = order_placed(holder(), OrderKind.RENEWAL, "placed-renewal")
    assert await notify(notifier.ctx, renewal) == 0  # told with its payment instructions
    confirmed = sample("order_confirmed-bank_transfer")
    no_iban = confirmed.model_copy(
        update={
            "payload": confirmed.payload.model_copy(
                update={
                    "instructions": confirmed.payload.instructions.model_copy(update={"iban": None})
                }
            )
        }
    )
    with pytest.raises(PoisonMessage) as poison:
        await notify(notifier.ctx, no_iban)
    assert (poison.value.kind, poison.value.reason) == (
        "incomplete_instructions",
        "bank_transfer instructions lack iban",
    )
    assert await notifier.store.find({}) == []


async def test_a_language_without_templates_falls_back_to_italian(
    notifier: Notifier, inbox: Inbox
) -> None:
    expired = sample("service_expired")
    german = expired.model_copy(
        update={
            "payload": expired.payload.model_copy(
                update={
                    "service": expired.payload.service.model_copy(update={"holder": holder("de")})
                }
            )
        }
    )
    await notify(notifier.ctx, german)
    assert await notifier.deliver() == 1
    sent = await notifier.stored(email_id(german, "service_expired"))
    assert (sent.locale, sent.requested_locale) == ("it", "de")
    assert inbox.messages[0]["Subject"].startswith("Il servizio 98765432@example.it è scaduto")


async def test_a_service_event_is_told_as_its_remembered_order_was_placed(
    notifier: Notifier,
) -> None:
    upcoming = next(s for s in samples("it") if s.name == "automatic_renewal_upcoming")
    succeeded = sample("automatic_renewal_succeeded")
    assert await notify(notifier.ctx, upcoming.event) == 1
    assert await notify(notifier.ctx, succeeded) == 1
    [told] = await history.search_notifications(
        notifier.ctx, Search(cause_event_id=str(succeeded.event_id))
    )
    assert told.template == "automatic_renewal_succeeded"  # not a plain renewal
    assert told.facts["order_number"] == "RN-2027-000123"


async def test_a_signed_webhook_is_retried_until_accepted_and_a_removed_endpoint_gets_nothing(
    notifier: Notifier,
) -> None:
    ctx = notifier.ctx
    with pytest.raises(InvalidEndpoint) as refused:
        await endpoints.register_endpoint(ctx, "http://crm.example.it/x", ["*"], "", None)
    assert refused.value.field == "url"
    hook = await endpoints.register_endpoint(
        ctx, "https://crm.example.it/hooks", ["order_confirmed"], "CRM", SECRET
    )
    other = await endpoints.register_endpoint(
        ctx, "https://dwh.example.it/hooks", ["service_expired"], "", None
    )
    assert len(other.secret) >= 32  # generated
    notifier.hooks.statuses = [503, 200]
    confirmed = sample("order_confirmed-bank_transfer", "en")
    assert await notify(ctx, confirmed) == 2  # an e-mail and the one subscribed endpoint
    nid = notification_id(str(confirmed.event_id), "webhook", "order_confirmed", hook.endpoint_id)

    assert await notifier.deliver("webhook") == 1
    notifier.clock.advance(ctx.retry.delay(1))
    assert await notifier.deliver("webhook") == 1
    notifier.clock.advance(ctx.retry.maximum)
    assert await notifier.deliver("webhook") == 0

    record = await notifier.stored(nid)
    assert [(a.outcome, a.status_code) for a in record.history] == [("retry", 503), ("sent", 200)]
    assert (record.attempts, record.audience.value) == (2, "integrator")
    first, second = notifier.hooks.requests
    assert first.content == second.content  # every attempt sends the same body
    for attempt, request in enumerate(notifier.hooks.requests, start=1):
        headers = request.headers
        assert str(request.url) == "https://crm.example.it/hooks"
        assert verify(
            SECRET,
            headers["x-rinnovo-timestamp"],
            request.content,
            headers["x-rinnovo-signature"],
            now=int(headers["x-rinnovo-timestamp"]),
        )
        assert (headers["x-rinnovo-delivery"], headers["x-rinnovo-attempt"]) == (nid, str(attempt))
    assert (
        json.loads(first.content)["data"]["instructions"]["iban"] == "IT60X0542811101000000987654"
    )

    # Removed: listed as inactive, and what was still pending for it fails.
    waiting = sample("order_confirmed-checkout_link", "en")
    assert await notify(ctx, waiting) == 2
    await endpoints.remove_endpoint(ctx, hook.endpoint_id)
    assert [e.active for e in await endpoints.list_endpoints(ctx)] == [False, True]
    with pytest.raises(NotFound):
        await endpoints.remove_endpoint(ctx, "nobody")
    assert await notifier.deliver("webhook") == 1
    left = await notifier.stored(
        notification_id(str(waiting.event_id), "webhook", "order_confirmed", hook.endpoint_id)
    )
    assert (left.status.value, left.last_error) == ("failed", "the endpoint was removed")
    assert len(notifier.hooks.requests) == 2
    again = sample("order_confirmed-postal_slip", "en")
    assert await notify(ctx, again) == 1  # the e-mail only
    by_endpoint = await history.search_notifications(ctx, Search(endpoint_id=hook.endpoint_id))
    assert {n.notification_id for n in by_endpoint} == {nid, left.notification_id}
