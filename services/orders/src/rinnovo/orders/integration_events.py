"""The published events of orders, built from domain objects (the only place that maps them;
the milestones' announcements are in ``milestone_events``)."""

from datetime import datetime

from rinnovo.contracts import orders as contract
from rinnovo.contracts.envelope import Event
from rinnovo.orders.domain.orders import Order
from rinnovo.orders.domain.paid_orders import PaymentRefusal, RegisteredPayment
from rinnovo.orders.domain.pricing import OrderKind
from rinnovo.orders.domain.subscription import Subscription
from rinnovo.runtime.events import new_event

PRODUCER = "orders"


def holder(service: Subscription) -> contract.Holder:
    return contract.Holder(
        customer_id=service.customer_id,
        name=service.holder.name,
        email=service.holder.email,
        locale=service.holder.locale,
    )


def service_state(service: Subscription) -> contract.ServiceState:
    c, auto = service.components, service.auto_renewal
    return contract.ServiceState(
        service_id=service.subscription_id,
        holder=holder(service),
        username=service.username,
        product_id=service.product_id,
        status=contract.ServiceStatus(service.status.value),
        expiry_date=service.expiry_date,
        components=contract.Components(
            storage_gb=c.storage_gb, extra_users=c.extra_users, nso=c.nso
        ),
        automatic_renewal=contract.AutomaticRenewal(
            enabled=auto.enabled, term_years=auto.term_years, payment_method=auto.payment_method
        ),
    )


def order_placed(
    order: Order, service: Subscription, product_name: str, version: int, at: datetime
) -> Event:
    q = order.quote
    payload = contract.OrderPlacedPayload(
        order_id=order.order_id,
        number=order.number,
        kind=contract.OrderKind(order.kind.value),
        service_id=order.subscription_id,
        username=service.username,
        product_id=q.product_id,
        product_name=product_name,
        holder=holder(service),
        placed_at=order.placed_at,
        payment_due=order.payment_due,
        payment_method=order.payment_method,
        term_years=q.term_years if order.kind.extends_term else 0,
        components=contract.Components(
            storage_gb=q.components.storage_gb,
            extra_users=q.components.extra_users,
            nso=q.components.nso,
        ),
        lines=tuple(
            contract.OrderLine(
                item=line.item,
                description=line.description,
                quantity=line.quantity,
                unit_yearly_cents=line.unit_yearly_cents,
                years=line.years,
                days=line.days,
                amount_cents=line.amount_cents,
            )
            for line in q.lines
        ),
        convention_code=order.convention_code,
        discount_cents=q.discount.amount_cents if q.discount else 0,
        net_cents=q.net_cents,
        vat_rate_basis_points=q.vat_rate_basis_points,
        vat_cents=q.vat_cents,
        total_cents=q.total_cents,
        catalog_product_version=order.catalog_product_version,
        price_version=q.price_version,
    )
    return event_of(contract.OrderPlaced, payload, order.order_id, version, at, order.order_id)


def order_cancelled(
    order: Order, service: Subscription, version: int, at: datetime, correlation: str | None
) -> Event:
    payload = contract.OrderCancelledPayload(
        order_id=order.order_id,
        number=order.number,
        service_id=order.subscription_id,
        holder=holder(service),
        reason=contract.CancelReason(order.cancel_reason or "customer"),
        cancelled_at=at,
        total_cents=order.quote.total_cents,
    )
    return event_of(contract.OrderCancelled, payload, order.order_id, version, at, correlation)


def order_paid(
    order: Order, service: Subscription, version: int, at: datetime, cause: Event
) -> Event:
    assert order.payment_id is not None and order.paid_at is not None
    payload = contract.OrderPaidPayload(
        order_id=order.order_id,
        number=order.number,
        kind=contract.OrderKind(order.kind.value),
        service_id=order.subscription_id,
        holder=holder(service),
        payment_id=order.payment_id,
        paid_at=order.paid_at,
        total_cents=order.quote.total_cents,
    )
    return event_of(contract.OrderPaid, payload, order.order_id, version, at, cause=cause)


def payment_refused(
    order: Order,
    payment_id: str,
    amount_cents: int,
    reason: PaymentRefusal,
    version: int,
    at: datetime,
    cause: Event,
) -> Event:
    payload = contract.OrderPaymentRefusedPayload(
        order_id=order.order_id,
        number=order.number,
        service_id=order.subscription_id,
        payment_id=payment_id,
        amount_cents=amount_cents,
        reason=contract.PaymentRefusedReason(reason.value),
    )
    return event_of(contract.OrderPaymentRefused, payload, order.order_id, version, at, cause=cause)


def payment_mismatched(
    order: Order, payment: RegisteredPayment, version: int, at: datetime, cause: Event
) -> Event:
    payload = contract.OrderPaymentMismatchedPayload(
        order_id=order.order_id,
        number=order.number,
        service_id=order.subscription_id,
        payment_id=payment.payment_id,
        amount_cents=payment.amount_cents,
        written_off_cents=payment.written_off_cents,
        expected_cents=order.quote.total_cents,
    )
    return event_of(
        contract.OrderPaymentMismatched, payload, order.order_id, version, at, cause=cause
    )


SERVICE_EVENT_OF_KIND = {
    OrderKind.FIRST_PURCHASE: "activated",
    OrderKind.RENEWAL: "renewed",
    OrderKind.AUTOMATIC_RENEWAL: "renewed",
    OrderKind.REACTIVATION: "reactivated",
    OrderKind.UPGRADE: "upgraded",
}


def service_event_of(kind: OrderKind) -> str:
    """What a paid order of this kind did to its service."""
    return SERVICE_EVENT_OF_KIND[kind]


SERVICE_EVENTS: dict[str, type[Event]] = {
    "activated": contract.ServiceActivated,
    "renewed": contract.ServiceRenewed,
    "reactivated": contract.ServiceReactivated,
    "upgraded": contract.ServiceUpgraded,
    "automatic_renewal_switched": contract.AutomaticRenewalSwitched,
}


def service_changed(
    what: str,
    service: Subscription,
    version: int,
    at: datetime,
    *,
    order_id: str | None = None,
    previous: Subscription | None = None,
    correlation: str | None = None,
    cause: Event | None = None,
) -> Event:
    payload = contract.ServiceChangePayload(
        service=service_state(service),
        order_id=order_id,
        previous_expiry_date=previous.expiry_date if previous else None,
    )
    return event_of(
        SERVICE_EVENTS[what], payload, service.subscription_id, version, at, correlation, cause
    )


def event_of(
    cls: type[Event],
    payload: object,
    aggregate_id: str,
    version: int,
    at: datetime,
    correlation: str | None = None,
    cause: Event | None = None,
) -> Event:
    return new_event(
        cls,
        payload=payload,
        producer=PRODUCER,
        aggregate_id=aggregate_id,
        aggregate_version=version,
        occurred_at=at,
        correlation_id=cause.correlation_id if cause else correlation,
        causation_id=str(cause.event_id) if cause else None,
    )


def storage_threshold_crossed(
    service: Subscription, threshold_percent: int, version: int, at: datetime, cause: Event
) -> Event:
    payload = contract.StorageThresholdCrossedPayload(
        service=service_state(service),
        used_bytes=service.used_bytes,
        quota_bytes=service.quota_bytes,
        threshold_percent=threshold_percent,
    )
    return event_of(
        contract.StorageThresholdCrossed, payload, service.subscription_id, version, at, cause=cause
    )
