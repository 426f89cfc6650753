"""Which message an event causes, if any: the one place that maps events to messages.

Each fact a customer is told about has exactly one cause (see the table in the service's
README), so one fact never produces two messages through two events.
"""

from typing import Any

from rinnovo.contracts import Event
from rinnovo.contracts.orders import (
    AutomaticRenewalUpcoming,
    Holder,
    OrderCancelled,
    OrderKind,
    OrderPlaced,
    ReactivationWindowClosing,
    ServiceActivated,
    ServiceChangePayload,
    ServiceDeactivated,
    ServiceExpired,
    ServiceExpiring,
    ServiceReactivated,
    ServiceRenewed,
    ServiceState,
    ServiceUpgraded,
    StorageThresholdCrossed,
)
from rinnovo.contracts.payments import (
    ChargeAttempted,
    InstructionsKind,
    PaymentFailed,
    PaymentRequested,
)
from rinnovo.notifier.domain.formatting import Cents, percent_used
from rinnovo.notifier.domain.instructions import instruction_facts
from rinnovo.notifier.domain.locales import choose_locale
from rinnovo.notifier.domain.messages import (
    CannotNotify,
    Cause,
    KnownOrder,
    Message,
    Recipient,
    Template,
)

Facts = dict[str, Any]
Composed = tuple[Template, Holder, Facts]


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
            return _order_confirmed(event)
        case AutomaticRenewalUpcoming():
            return _automatic_renewal_upcoming(event)
        case OrderCancelled():
            return _order_cancelled(event, order)
        case ServiceActivated() | ServiceUpgraded() | ServiceRenewed() | ServiceReactivated():
            return _service_paid(event, order)
        case ChargeAttempted():
            return _charge_failed(event)
        case PaymentFailed():
            return _automatic_renewal_failed(event)
        case ServiceExpiring():
            return _expiry_reminder(event)
        case ServiceExpired():
            return _service_expired(event)
        case ReactivationWindowClosing():
            return _window_closing(event)
        case ServiceDeactivated():
            p = event.payload
            return Template.SERVICE_DEACTIVATED, p.service.holder, _service(p.service)
        case StorageThresholdCrossed():
            return _storage_threshold(event)
    return None


def _automatic_renewal_failed(event: PaymentFailed) -> Composed:
    p = event.payload
    facts: Facts = {
        "order_number": p.order_number,
        "attempts": p.attempts,
        "reason": p.reason,
        "amount_cents": _cents(p.amount_cents),
    }
    return Template.AUTOMATIC_RENEWAL_FAILED, p.holder, facts


def _expiry_reminder(event: ServiceExpiring) -> Composed:
    p = event.payload
    facts = {**_service(p.service), "expiry_date": p.expiry_date, "days_left": p.days_left}
    return Template.EXPIRY_REMINDER, p.service.holder, facts


def _service_expired(event: ServiceExpired) -> Composed:
    p = event.payload
    facts = {**_service(p.service), "reactivation_deadline": p.reactivation_deadline}
    return Template.SERVICE_EXPIRED, p.service.holder, facts


def _window_closing(event: ReactivationWindowClosing) -> Composed:
    p = event.payload
    facts = {
        **_service(p.service),
        "reactivation_deadline": p.reactivation_deadline,
        "days_left": p.days_left,
    }
    return Template.REACTIVATION_WINDOW_CLOSING, p.service.holder, facts


def _storage_threshold(event: StorageThresholdCrossed) -> Composed:
    p = event.payload
    facts = {
        **_service(p.service),
        "used_bytes": p.used_bytes,
        "quota_bytes": p.quota_bytes,
        "percent_used": percent_used(p.used_bytes, p.quota_bytes),
        "threshold_percent": p.threshold_percent,
    }
    return Template.STORAGE_THRESHOLD, p.service.holder, facts


def _cents(amount: int | None) -> Cents | None:
    return None if amount is None else Cents(amount)


def _service(service: ServiceState) -> Facts:
    return {
        "service_id": service.service_id,
        "username": service.username,
        "expiry_date": service.expiry_date,
        "automatic_renewal": service.automatic_renewal.enabled,
    }


def _order_confirmed(event: PaymentRequested) -> Composed | None:
    p = event.payload
    instructions = p.instructions
    # Automatic renewals are announced ahead by orders' notice; nothing to pay by hand.
    if p.order_kind is OrderKind.AUTOMATIC_RENEWAL:
        return None
    if instructions.kind is InstructionsKind.STORED_METHOD:
        return None
    facts: Facts = {
        "order_number": p.order_number,
        "order_kind": p.order_kind.value,
        "method": p.method,
        "amount_cents": Cents(p.amount_cents),
        "usual_registration_days": p.usual_registration_days,
        "instructions": instruction_facts(instructions),
    }
    return Template.ORDER_CONFIRMED, p.holder, facts


def _automatic_renewal_upcoming(event: AutomaticRenewalUpcoming) -> Composed:
    p = event.payload
    facts: Facts = {
        **_service(p.service),
        "charge_date": p.charge_date,
        "days_left": p.days_left,
        "term_years": p.term_years,
        "total_cents": Cents(p.total_cents),
        "payment_method": p.payment_method,
        "renewed_until": p.renewed_until,
    }
    return Template.AUTOMATIC_RENEWAL_UPCOMING, p.service.holder, facts


def _order_cancelled(event: OrderCancelled, order: KnownOrder | None) -> Composed | None:
    p = event.payload
    if order is not None and order.kind == OrderKind.AUTOMATIC_RENEWAL.value:
        # The customer never placed it; its failure was already told (automatic renewal failed).
        return None
    facts: Facts = {
        "order_number": p.number,
        "reason": p.reason.value,
        "total_cents": Cents(p.total_cents),
        "cancelled_at": p.cancelled_at,
    }
    return Template.ORDER_CANCELLED, p.holder, facts


def _service_paid(event: Event, order: KnownOrder | None) -> Composed | None:
    p: ServiceChangePayload = event.payload
    if p.order_id is None:
        return None  # an import or an operator's change, not a payment
    facts: Facts = {
        **_service(p.service),
        "previous_expiry_date": p.previous_expiry_date,
        "order_number": order.number if order else None,
        "total_cents": Cents(order.total_cents) if order else None,
    }
    if isinstance(event, ServiceRenewed):
        if order is not None and order.kind == OrderKind.AUTOMATIC_RENEWAL.value:
            facts["payment_method"] = order.payment_method
            return Template.AUTOMATIC_RENEWAL_SUCCEEDED, p.service.holder, facts
        return Template.RENEWAL_COMPLETED, p.service.holder, {**facts, "kind": "renewal"}
    if isinstance(event, ServiceReactivated):
        return Template.RENEWAL_COMPLETED, p.service.holder, {**facts, "kind": "reactivation"}
    components = p.service.components
    facts |= {
        "kind": "first_purchase" if isinstance(event, ServiceActivated) else "upgrade",
        "storage_gb": components.storage_gb,
        "extra_users": components.extra_users,
        "nso": components.nso,
    }
    return Template.PAYMENT_REGISTERED, p.service.holder, facts


def _charge_failed(event: ChargeAttempted) -> Composed | None:
    p = event.payload
    # A success is told by ServiceRenewed (with the new expiry date); the last failure by
    # PaymentFailed. Only a failure with another attempt ahead is told here.
    if p.succeeded or p.next_attempt_on is None:
        return None
    facts: Facts = {
        "order_number": p.order_number,
        "attempt": p.attempt,
        "reason": p.reason,
        "next_attempt_on": p.next_attempt_on,
        "amount_cents": _cents(p.amount_cents),
    }
    return Template.AUTOMATIC_RENEWAL_RETRY, p.holder, facts
