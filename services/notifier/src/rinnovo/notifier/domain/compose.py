"""Which message an event causes, if any: the one place that maps events to messages.

Each fact a customer is told about has exactly one cause (see the table in the service's
README), so one fact never produces two messages through two events. The facts of each
message are gathered in ``order_facts`` and ``service_facts``.
"""

from rinnovo.contracts import Event
from rinnovo.contracts.orders import (
    Holder,
    OrderCancelled,
    OrderPlaced,
    ReactivationWindowClosing,
    ServiceActivated,
    ServiceChangePayload,
    ServiceDeactivated,
    ServiceExpired,
    ServiceExpiring,
    ServiceReactivated,
    ServiceRenewed,
    ServiceUpgraded,
    StorageThresholdCrossed,
)
from rinnovo.contracts.payments import ChargeAttempted, PaymentFailed, PaymentRequested
from rinnovo.notifier.domain import order_facts, service_facts
from rinnovo.notifier.domain.locales import choose_locale
from rinnovo.notifier.domain.messages import (
    CannotNotify,
    Cause,
    Composed,
    KnownOrder,
    Message,
    Recipient,
)


def order_to_look_up(event: Event) -> str | None:
    """The order whose remembered facts the message of ``event`` needs, if any."""
    payload = event.payload
    if isinstance(event, OrderCancelled):
        return payload.order_id  # type: ignore[no-any-return]
    if isinstance(payload, ServiceChangePayload):
        return payload.order_id
    return None


def known_order(event: OrderPlaced) -> KnownOrder:
    p = event.payload
    return KnownOrder(
        order_id=p.order_id,
        number=p.number,
        kind=p.kind.value,
        total_cents=p.total_cents,
        payment_method=p.payment_method,
        username=p.username,
    )


def compose(
    event: Event, *, order: KnownOrder | None = None, default_locale: str = "it"
) -> Message | None:
    """The message ``event`` causes, or ``None`` when it tells the customer nothing new.

    ``order`` is what is remembered of the order the event names (``order_to_look_up``).
    """
    found = _template_and_facts(event, order)
    if found is None:
        return None
    template, holder, facts = found
    return Message(
        template=template,
        recipient=_recipient(holder, default_locale),
        cause=Cause(
            event_id=str(event.event_id),
            type=event.type,
            aggregate_id=event.aggregate_id,
            occurred_at=event.occurred_at,
            correlation_id=event.correlation_id,
        ),
        facts=facts,
    )


def _recipient(holder: Holder, default_locale: str) -> Recipient:
    email = (holder.email or "").strip()
    if "@" not in email:
        raise CannotNotify("no_recipient", f"customer {holder.customer_id} has no e-mail address")
    return Recipient(
        customer_id=holder.customer_id,
        name=holder.name,
        email=email,
        locale=choose_locale(holder.locale, default_locale),
        requested_locale=holder.locale or "",
    )


def _template_and_facts(event: Event, order: KnownOrder | None) -> Composed | None:
    match event:
        case PaymentRequested():
            return order_facts.order_confirmed(event)
        case OrderPlaced():
            return order_facts.automatic_renewal_upcoming(event)
        case OrderCancelled():
            return order_facts.order_cancelled(event, order)
        case ServiceActivated() | ServiceUpgraded() | ServiceRenewed() | ServiceReactivated():
            return service_facts.service_paid(event, order)
        case ChargeAttempted():
            return order_facts.charge_failed(event)
        case PaymentFailed():
            return order_facts.automatic_renewal_failed(event)
        case ServiceExpiring():
            return service_facts.expiry_reminder(event)
        case ServiceExpired():
            return service_facts.service_expired(event)
        case ReactivationWindowClosing():
            return service_facts.window_closing(event)
        case ServiceDeactivated():
            return service_facts.service_deactivated(event)
        case StorageThresholdCrossed():
            return service_facts.storage_threshold(event)
    return None
