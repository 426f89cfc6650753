"""One sample event per message variant, fixed to the last byte: the inputs of the golden
files (the notifier's ``tests/golden``) and a way to preview every template in every language."""

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from rinnovo.contracts import Event
from rinnovo.contracts.orders import (
    AutomaticRenewal,
    CancelReason,
    Components,
    Holder,
    OrderCancelled,
    OrderCancelledPayload,
    OrderKind,
    OrderLine,
    OrderPlaced,
    OrderPlacedPayload,
    ReactivationWindowClosing,
    ReactivationWindowClosingPayload,
    ServiceActivated,
    ServiceChangePayload,
    ServiceDeactivated,
    ServiceExpired,
    ServiceExpiredPayload,
    ServiceExpiring,
    ServiceExpiringPayload,
    ServiceReactivated,
    ServiceRenewed,
    ServiceState,
    ServiceStatus,
    ServiceUpgraded,
    StorageThresholdCrossed,
    StorageThresholdCrossedPayload,
)
from rinnovo.contracts.payments import (
    ChargeAttempted,
    ChargeAttemptedPayload,
    InstructionsKind,
    PaymentFailed,
    PaymentFailedPayload,
    PaymentInstructions,
    PaymentRequested,
    PaymentRequestedPayload,
)
from rinnovo.notifier.domain.messages import KnownOrder

NAMESPACE = uuid.UUID("0d6f2a57-8c3b-4f0e-9e51-7a2b9c4d1e33")
AT = datetime(2027, 3, 1, 9, 30, tzinfo=UTC)
EXPIRY = date(2027, 3, 31)
ORDER_ID = "ord-0001"
NUMBER = "RN-2027-000123"
TOTAL = 123456  # 1.234,56 €


@dataclass(frozen=True)
class Sample:
    name: str
    event: Event
    order: KnownOrder | None = None
    """What the notifier would remember of the order the event names."""


def holder(locale: str = "it", customer_id: str = "c-rossi", email: str | None = None) -> Holder:
    # The ampersand shows that HTML is escaped and plain text is not.
    return Holder(
        customer_id=customer_id,
        name="Studio Rossi & Associati",
        email=email or "amministrazione@studiorossi.example",
        locale=locale,
    )


def event(cls: type[Event], payload: Any, name: str, aggregate_id: str = ORDER_ID) -> Event:
    """An event whose id is fixed by ``name``, so its notification ids are too."""
    return cls(
        event_id=uuid.uuid5(NAMESPACE, name),
        type=cls.event_type(),
        occurred_at=AT,
        producer="samples",
        aggregate_id=aggregate_id,
        aggregate_version=1,
        correlation_id=f"corr-{name}",
        payload=payload,
    )


def service_state(
    h: Holder,
    status: ServiceStatus = ServiceStatus.ACTIVE,
    expiry: date | None = EXPIRY,
    automatic: bool = False,
) -> ServiceState:
    return ServiceState(
        service_id="svc-1",
        holder=h,
        username="98765432@example.it",
        product_id="fe-standard",
        status=status,
        expiry_date=expiry,
        components=Components(storage_gb=5, extra_users=2, nso=True),
        automatic_renewal=AutomaticRenewal(
            enabled=automatic, term_years=1, payment_method="card" if automatic else None
        ),
    )


def known(kind: OrderKind, method: str = "bank_transfer") -> KnownOrder:
    return KnownOrder(
        order_id=ORDER_ID,
        number=NUMBER,
        kind=kind.value,
        total_cents=TOTAL,
        payment_method=method,
        username="98765432@example.it",
    )


def payment_requested(
    h: Holder, kind: InstructionsKind, name: str, order_kind: OrderKind = OrderKind.RENEWAL
) -> Event:
    details: dict[str, Any] = {
        InstructionsKind.BANK_TRANSFER: {
            "beneficiary": "Fatture Digitali S.p.A.",
            "iban": "IT60X0542811101000000987654",
            "bic": "BPMOIT22XXX",
        },
        InstructionsKind.POSTAL_SLIP: {
            "beneficiary": "Fatture Digitali S.p.A.",
            "postal_account": "000987654",
        },
        InstructionsKind.CHECKOUT_LINK: {
            "checkout_url": "https://pay.example.it/checkout/cs_test_a1b2c3?lang=it&x=1",
        },
    }.get(kind, {})
    method = {
        InstructionsKind.BANK_TRANSFER: "bank_transfer",
        InstructionsKind.POSTAL_SLIP: "postal_slip",
        InstructionsKind.CHECKOUT_LINK: "card",
    }.get(kind, "card")
    payload = PaymentRequestedPayload(
        payment_id="pay-0001",
        order_id=ORDER_ID,
        order_number=NUMBER,
        order_kind=order_kind,
        service_id="svc-1",
        holder=h,
        method=method,
        amount_cents=TOTAL,
        instructions=PaymentInstructions(
            kind=kind,
            reference=NUMBER,
            amount_cents=TOTAL,
            due_date=date(2027, 3, 15),
            **details,
        ),
        usual_registration_days={"bank_transfer": 2, "postal_slip": 4}.get(method, 0),
    )
    return event(PaymentRequested, payload, name, "pay-0001")


def order_placed(h: Holder, kind: OrderKind, name: str) -> Event:
    payload = OrderPlacedPayload(
        order_id=ORDER_ID,
        number=NUMBER,
        kind=kind,
        service_id="svc-1",
        username="98765432@example.it",
        product_id="fe-standard",
        product_name="Fatturazione Elettronica Standard",
        holder=h,
        placed_at=AT,
        payment_due=date(2027, 3, 15),
        payment_method="card",
        term_years=2,
        components=Components(storage_gb=5, extra_users=2, nso=True),
        lines=(
            OrderLine(
                item="base",
                description="Servizio base",
                quantity=1,
                unit_yearly_cents=50000,
                years=2,
                amount_cents=100000,
            ),
        ),
        discount_cents=0,
        net_cents=101193,
        vat_rate_basis_points=2200,
        vat_cents=22263,
        total_cents=TOTAL,
        catalog_product_version=1,
        price_version=1,
    )
    return event(OrderPlaced, payload, name)


def service_change(
    cls: type[Event], h: Holder, name: str, previous: date | None, order_id: str | None = ORDER_ID
) -> Event:
    payload = ServiceChangePayload(
        service=service_state(h, automatic=cls is ServiceRenewed),
        order_id=order_id,
        previous_expiry_date=previous,
    )
    return event(cls, payload, name, "svc-1")


def samples(locale: str) -> list[Sample]:
    """Every message variant, for a holder writing in ``locale``."""
    h = holder(locale)
    n = f"{locale}-"
    expired = service_state(h, ServiceStatus.EXPIRED, EXPIRY)
    return [
        Sample(
            "order_confirmed-bank_transfer",
            payment_requested(h, InstructionsKind.BANK_TRANSFER, n + "bank"),
        ),
        Sample(
            "order_confirmed-postal_slip",
            payment_requested(h, InstructionsKind.POSTAL_SLIP, n + "postal", OrderKind.UPGRADE),
        ),
        Sample(
            "order_confirmed-checkout_link",
            payment_requested(
                h, InstructionsKind.CHECKOUT_LINK, n + "link", OrderKind.FIRST_PURCHASE
            ),
        ),
        Sample(
            "payment_registered-first_purchase",
            service_change(ServiceActivated, h, n + "activated", None),
            known(OrderKind.FIRST_PURCHASE),
        ),
        Sample(
            "payment_registered-upgrade",
            service_change(ServiceUpgraded, h, n + "upgraded", EXPIRY),
            known(OrderKind.UPGRADE),
        ),
        Sample(
            "renewal_completed-renewal",
            service_change(ServiceRenewed, h, n + "renewed", date(2026, 3, 31)),
            known(OrderKind.RENEWAL),
        ),
        Sample(
            "renewal_completed-reactivation",
            service_change(ServiceReactivated, h, n + "reactivated", date(2026, 3, 31)),
            known(OrderKind.REACTIVATION),
        ),
        Sample(
            "expiry_reminder",
            event(
                ServiceExpiring,
                ServiceExpiringPayload(service=service_state(h), expiry_date=EXPIRY, days_left=30),
                n + "expiring",
                "svc-1",
            ),
        ),
        Sample(
            "automatic_renewal_upcoming",
            order_placed(h, OrderKind.AUTOMATIC_RENEWAL, n + "auto-placed"),
        ),
        Sample(
            "automatic_renewal_succeeded",
            service_change(ServiceRenewed, h, n + "auto-renewed", date(2026, 3, 31)),
            known(OrderKind.AUTOMATIC_RENEWAL, "card"),
        ),
        Sample(
            "automatic_renewal_retry",
            event(
                ChargeAttempted,
                ChargeAttemptedPayload(
                    payment_id="pay-0001",
                    order_id=ORDER_ID,
                    order_number=NUMBER,
                    holder=h,
                    attempt=1,
                    succeeded=False,
                    reason="card_declined",
                    next_attempt_on=date(2027, 3, 4),
                    amount_cents=TOTAL,
                    method="card",
                ),
                n + "charge-failed",
                "pay-0001",
            ),
        ),
        Sample(
            "automatic_renewal_failed",
            event(
                PaymentFailed,
                PaymentFailedPayload(
                    payment_id="pay-0001",
                    order_id=ORDER_ID,
                    order_number=NUMBER,
                    service_id="svc-1",
                    holder=h,
                    reason="card_expired",
                    attempts=4,
                    amount_cents=TOTAL,
                ),
                n + "payment-failed",
                "pay-0001",
            ),
        ),
        Sample(
            "service_expired",
            event(
                ServiceExpired,
                ServiceExpiredPayload(service=expired, reactivation_deadline=date(2027, 5, 30)),
                n + "expired",
                "svc-1",
            ),
        ),
        Sample(
            "reactivation_window_closing",
            event(
                ReactivationWindowClosing,
                ReactivationWindowClosingPayload(
                    service=expired, reactivation_deadline=date(2027, 5, 30), days_left=7
                ),
                n + "window-closing",
                "svc-1",
            ),
        ),
        Sample(
            "service_deactivated",
            event(
                ServiceDeactivated,
                ServiceChangePayload(service=service_state(h, ServiceStatus.DEACTIVATED)),
                n + "deactivated",
                "svc-1",
            ),
        ),
        Sample(
            "storage_threshold",
            event(
                StorageThresholdCrossed,
                StorageThresholdCrossedPayload(
                    service=service_state(h),
                    used_bytes=4_250_000_000,
                    quota_bytes=5_000_000_000,
                    threshold_percent=80,
                ),
                n + "storage",
                "svc-1",
            ),
        ),
        Sample(
            "order_cancelled-customer",
            event(
                OrderCancelled,
                OrderCancelledPayload(
                    order_id=ORDER_ID,
                    number=NUMBER,
                    service_id="svc-1",
                    holder=h,
                    reason=CancelReason.CUSTOMER,
                    cancelled_at=AT,
                    total_cents=TOTAL,
                ),
                n + "cancelled-customer",
            ),
            known(OrderKind.RENEWAL),
        ),
        Sample(
            "order_cancelled-not_paid",
            event(
                OrderCancelled,
                OrderCancelledPayload(
                    order_id=ORDER_ID,
                    number=NUMBER,
                    service_id="svc-1",
                    holder=h,
                    reason=CancelReason.NOT_PAID,
                    cancelled_at=datetime(2027, 3, 16, 23, 30, tzinfo=UTC),  # 17/03 in Rome
                    total_cents=TOTAL,
                ),
                n + "cancelled-not-paid",
            ),
            known(OrderKind.RENEWAL),
        ),
    ]


def sample(name: str, locale: str = "it") -> Event:
    """The event of one message variant (``order_confirmed-bank_transfer``, ...)."""
    return next(s.event for s in samples(locale) if s.name == name)
