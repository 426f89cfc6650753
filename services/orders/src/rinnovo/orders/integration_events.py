"""The published events of orders, built from domain objects (the only place that maps them)."""

from datetime import date, datetime

from rinnovo.contracts import orders as contract
from rinnovo.contracts.catalog import ProductPolicy
from rinnovo.contracts.envelope import Event
from rinnovo.orders.domain.lifecycle import Step
from rinnovo.orders.domain.orders import Order
from rinnovo.orders.domain.paid_orders import PaymentRefusal, RegisteredPayment
from rinnovo.orders.domain.pricing import OrderKind
from rinnovo.orders.domain.schedule import MilestoneKind, reactivation_deadline
from rinnovo.orders.domain.subscription import Subscription
from rinnovo.runtime.clock import rome_date
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
    return _event(contract.OrderPlaced, payload, order.order_id, version, at, order.order_id)


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
    return _event(contract.OrderCancelled, payload, order.order_id, version, at, correlation)


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
    return _event(contract.OrderPaid, payload, order.order_id, version, at, cause=cause)


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
    return _event(contract.OrderPaymentRefused, payload, order.order_id, version, at, cause=cause)


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
    return _event(
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
    return _event(
        SERVICE_EVENTS[what], payload, service.subscription_id, version, at, correlation, cause
    )


def _event(
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


def service_expiring(service: Subscription, days_left: int, version: int, at: datetime) -> Event:
    assert service.expiry_date is not None
    payload = contract.ServiceExpiringPayload(
        service=service_state(service), expiry_date=service.expiry_date, days_left=days_left
    )
    return _event(contract.ServiceExpiring, payload, service.subscription_id, version, at)


def service_expired(service: Subscription, deadline: date, version: int, at: datetime) -> Event:
    payload = contract.ServiceExpiredPayload(
        service=service_state(service), reactivation_deadline=deadline
    )
    return _event(contract.ServiceExpired, payload, service.subscription_id, version, at)


def window_closing(
    service: Subscription, deadline: date, days_left: int, version: int, at: datetime
) -> Event:
    payload = contract.ReactivationWindowClosingPayload(
        service=service_state(service), reactivation_deadline=deadline, days_left=days_left
    )
    return _event(contract.ReactivationWindowClosing, payload, service.subscription_id, version, at)


def service_deactivated(service: Subscription, version: int, at: datetime) -> Event:
    payload = contract.ServiceChangePayload(service=service_state(service))
    return _event(contract.ServiceDeactivated, payload, service.subscription_id, version, at)


def storage_threshold_crossed(
    service: Subscription, threshold_percent: int, version: int, at: datetime, cause: Event
) -> Event:
    payload = contract.StorageThresholdCrossedPayload(
        service=service_state(service),
        used_bytes=service.used_bytes,
        quota_bytes=service.quota_bytes,
        threshold_percent=threshold_percent,
    )
    return _event(
        contract.StorageThresholdCrossed, payload, service.subscription_id, version, at, cause=cause
    )


def milestone_announced(
    step: Step, before: Subscription, policy: ProductPolicy, version: int, now: datetime
) -> Event:
    """The event a milestone taken at ``now`` announces, told as things are today."""
    after = step.service
    assert before.expiry_date is not None
    deadline = reactivation_deadline(before.expiry_date, policy)
    match step.milestone.kind:
        case MilestoneKind.REMINDER:
            # A reminder taken late (downtime, an import close to expiry) does not announce
            # the days its milestone was named after.
            days_left = max((before.expiry_date - rome_date(now)).days, 0)
            return service_expiring(after, days_left, version, now)
        case MilestoneKind.EXPIRY:
            return service_expired(after, deadline, version, now)
        case MilestoneKind.WINDOW_CLOSING:
            days_left = max((deadline - rome_date(now)).days, 0)
            return window_closing(after, deadline, days_left, version, now)
        case MilestoneKind.DEACTIVATION:
            return service_deactivated(after, version, now)
    raise AssertionError(f"no announcement for {step.milestone.kind}")
