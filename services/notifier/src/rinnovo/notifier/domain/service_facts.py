"""The facts of messages about a customer's service: paid (activated, renewed, reactivated,
upgraded), expiring, expired, its reactivation window closing, deactivated, storage used."""

from rinnovo.contracts import Event
from rinnovo.contracts.orders import (
    OrderKind,
    ReactivationWindowClosing,
    ServiceActivated,
    ServiceChangePayload,
    ServiceDeactivated,
    ServiceExpired,
    ServiceExpiring,
    ServiceReactivated,
    ServiceRenewed,
    ServiceState,
    StorageThresholdCrossed,
)
from rinnovo.notifier.domain.formatting import Cents, percent_used
from rinnovo.notifier.domain.messages import Composed, Facts, KnownOrder, Template


def service_paid(event: Event, order: KnownOrder | None) -> Composed | None:
    p: ServiceChangePayload = event.payload
    if p.order_id is None:
        return None  # an import or an operator's change, not a payment
    facts: Facts = {
        **service_of(p.service),
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


def expiry_reminder(event: ServiceExpiring) -> Composed:
    p = event.payload
    facts = {**service_of(p.service), "expiry_date": p.expiry_date, "days_left": p.days_left}
    return Template.EXPIRY_REMINDER, p.service.holder, facts


def service_expired(event: ServiceExpired) -> Composed:
    p = event.payload
    facts = {**service_of(p.service), "reactivation_deadline": p.reactivation_deadline}
    return Template.SERVICE_EXPIRED, p.service.holder, facts


def window_closing(event: ReactivationWindowClosing) -> Composed:
    p = event.payload
    facts = {
        **service_of(p.service),
        "reactivation_deadline": p.reactivation_deadline,
        "days_left": p.days_left,
    }
    return Template.REACTIVATION_WINDOW_CLOSING, p.service.holder, facts


def storage_threshold(event: StorageThresholdCrossed) -> Composed:
    p = event.payload
    facts = {
        **service_of(p.service),
        "used_bytes": p.used_bytes,
        "quota_bytes": p.quota_bytes,
        "percent_used": percent_used(p.used_bytes, p.quota_bytes),
        "threshold_percent": p.threshold_percent,
    }
    return Template.STORAGE_THRESHOLD, p.service.holder, facts


def service_deactivated(event: ServiceDeactivated) -> Composed:
    p = event.payload
    return Template.SERVICE_DEACTIVATED, p.service.holder, service_of(p.service)


def service_of(service: ServiceState) -> Facts:
    return {
        "service_id": service.service_id,
        "username": service.username,
        "expiry_date": service.expiry_date,
        "automatic_renewal": service.automatic_renewal.enabled,
    }
