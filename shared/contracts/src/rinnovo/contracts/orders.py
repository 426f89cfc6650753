"""Orders and customers' services (subscriptions): the events of the orders service.

``orders.order.v1`` is keyed by order id, ``orders.service.v1`` by service id, so each
aggregate's events stay in order. Events carry what their consumers need (the holder's
address and language, amounts, dates) so nobody has to call back.
"""

from datetime import date
from enum import StrEnum
from typing import Literal

from pydantic import AwareDatetime, EmailStr, Field

from rinnovo.contracts.envelope import Cents, Contract, Event, NonEmpty
from rinnovo.contracts.topic_spec import TopicSpec


class OrderKind(StrEnum):
    FIRST_PURCHASE = "first_purchase"
    RENEWAL = "renewal"
    REACTIVATION = "reactivation"
    UPGRADE = "upgrade"
    AUTOMATIC_RENEWAL = "automatic_renewal"


class Holder(Contract):
    """The holder of a service (*intestatario*) and where to reach them."""

    customer_id: NonEmpty
    name: NonEmpty
    email: EmailStr = Field(description="The holder's reference address for every message.")
    locale: str = Field(default="it", description="`it` or `en`; others fall back to `it`.")


class Components(Contract):
    storage_gb: int = Field(ge=0)
    extra_users: int = Field(ge=0)
    nso: bool


class OrderLine(Contract):
    item: NonEmpty = Field(description="`base` or an option id.")
    description: NonEmpty
    quantity: int = Field(ge=0)
    unit_yearly_cents: Cents
    years: int = Field(ge=0)
    days: int | None = Field(default=None, description="Days charged pro rata (upgrades).")
    amount_cents: Cents


class OrderPlacedPayload(Contract):
    order_id: NonEmpty
    number: NonEmpty = Field(description="Human-readable; the reference of the payment.")
    kind: OrderKind
    service_id: NonEmpty
    username: NonEmpty
    product_id: NonEmpty
    product_name: NonEmpty
    holder: Holder
    placed_at: AwareDatetime
    payment_due: date = Field(description="Unpaid after this Rome date, the order is cancelled.")
    payment_method: NonEmpty
    term_years: int = Field(ge=0)
    components: Components
    lines: tuple[OrderLine, ...]
    convention_code: str | None = None
    discount_cents: Cents
    net_cents: Cents
    vat_rate_basis_points: int = Field(ge=0, le=10_000)
    vat_cents: Cents
    total_cents: Cents
    catalog_product_version: int = Field(ge=1)
    price_version: int = Field(ge=1)


class OrderPlaced(Event):
    type: Literal["orders.order.placed"] = "orders.order.placed"
    payload: OrderPlacedPayload


class CancelReason(StrEnum):
    CUSTOMER = "customer"
    NOT_PAID = "not_paid"


class OrderCancelledPayload(Contract):
    order_id: NonEmpty
    number: NonEmpty
    service_id: NonEmpty
    holder: Holder
    reason: CancelReason
    cancelled_at: AwareDatetime
    total_cents: Cents


class OrderCancelled(Event):
    type: Literal["orders.order.cancelled"] = "orders.order.cancelled"
    payload: OrderCancelledPayload


class OrderPaidPayload(Contract):
    order_id: NonEmpty
    number: NonEmpty
    kind: OrderKind
    service_id: NonEmpty
    holder: Holder
    payment_id: NonEmpty
    paid_at: AwareDatetime
    total_cents: Cents


class OrderPaid(Event):
    type: Literal["orders.order.paid"] = "orders.order.paid"
    payload: OrderPaidPayload


class PaymentRefusedReason(StrEnum):
    ORDER_CANCELLED = "order_cancelled"
    SERVICE_DEACTIVATED = "service_deactivated"
    ALREADY_PAID = "already_paid"


class OrderPaymentRefusedPayload(Contract):
    """A payment was registered that cannot be applied; payments refunds or reviews it."""

    order_id: NonEmpty
    number: NonEmpty
    service_id: NonEmpty
    payment_id: NonEmpty
    amount_cents: Cents
    reason: PaymentRefusedReason


class OrderPaymentRefused(Event):
    type: Literal["orders.order.payment_refused"] = "orders.order.payment_refused"
    payload: OrderPaymentRefusedPayload


class OrderPaymentMismatchedPayload(Contract):
    """A registered payment whose amount is not its order's: the order is not paid by it,
    and payments opens a review item for an operator."""

    order_id: NonEmpty
    number: NonEmpty
    service_id: NonEmpty
    payment_id: NonEmpty
    amount_cents: Cents = Field(description="What the payment says arrived.")
    written_off_cents: Cents = Field(description="What the payment says was written off.")
    expected_cents: Cents = Field(description="The order's total.")


class OrderPaymentMismatched(Event):
    type: Literal["orders.order.payment_mismatched"] = "orders.order.payment_mismatched"
    payload: OrderPaymentMismatchedPayload


class ServiceStatus(StrEnum):
    PENDING_ACTIVATION = "pending_activation"
    ACTIVE = "active"
    EXPIRED = "expired"
    DEACTIVATED = "deactivated"


class AutomaticRenewal(Contract):
    enabled: bool
    term_years: int = Field(ge=1, le=10)
    payment_method: str | None = None


class ServiceState(Contract):
    """The whole state of a service after a change: the panel enforces quota and access
    from it, so every service event carries it."""

    service_id: NonEmpty
    holder: Holder
    username: NonEmpty
    product_id: NonEmpty
    status: ServiceStatus
    expiry_date: date | None = Field(description="Europe/Rome; works through its end.")
    components: Components
    automatic_renewal: AutomaticRenewal


class ServiceChangePayload(Contract):
    service: ServiceState
    order_id: str | None = Field(default=None, description="The order that caused it.")
    previous_expiry_date: date | None = None


class ServiceActivated(Event):
    type: Literal["orders.service.activated"] = "orders.service.activated"
    payload: ServiceChangePayload


class ServiceRenewed(Event):
    type: Literal["orders.service.renewed"] = "orders.service.renewed"
    payload: ServiceChangePayload


class ServiceReactivated(Event):
    type: Literal["orders.service.reactivated"] = "orders.service.reactivated"
    payload: ServiceChangePayload


class ServiceUpgraded(Event):
    type: Literal["orders.service.upgraded"] = "orders.service.upgraded"
    payload: ServiceChangePayload


class AutomaticRenewalSwitched(Event):
    type: Literal["orders.service.automatic_renewal_switched"] = (
        "orders.service.automatic_renewal_switched"
    )
    payload: ServiceChangePayload


class AutomaticRenewalUpcomingPayload(Contract):
    """The notice ahead of an automatic-renewal charge, sent the product's
    ``auto_renewal_notice_days`` before it while automatic renewal is on."""

    service: ServiceState
    charge_date: date = Field(description="The Europe/Rome day the stored method is charged.")
    days_left: int = Field(ge=0, description="Days until the charge date.")
    term_years: int = Field(ge=1, le=10, description="The term the renewal buys.")
    payment_method: NonEmpty = Field(description="The stored method charged.")
    total_cents: Cents = Field(
        description="What the charge will be, VAT included, at the prices in effect then."
    )
    renewed_until: date = Field(description="The expiry date once the renewal is paid.")


class AutomaticRenewalUpcoming(Event):
    type: Literal["orders.service.automatic_renewal_upcoming"] = (
        "orders.service.automatic_renewal_upcoming"
    )
    payload: AutomaticRenewalUpcomingPayload


class ServiceExpiringPayload(Contract):
    """A reminder milestone: sent on the reminder schedule while automatic renewal is off."""

    service: ServiceState
    expiry_date: date
    days_left: int = Field(ge=0, description="Days until the expiry date.")


class ServiceExpiring(Event):
    type: Literal["orders.service.expiring"] = "orders.service.expiring"
    payload: ServiceExpiringPayload


class ServiceExpiredPayload(Contract):
    service: ServiceState
    reactivation_deadline: date = Field(description="Last day the service can be reactivated.")


class ServiceExpired(Event):
    type: Literal["orders.service.expired"] = "orders.service.expired"
    payload: ServiceExpiredPayload


class ReactivationWindowClosingPayload(Contract):
    service: ServiceState
    reactivation_deadline: date
    days_left: int = Field(ge=0)


class ReactivationWindowClosing(Event):
    type: Literal["orders.service.reactivation_window_closing"] = (
        "orders.service.reactivation_window_closing"
    )
    payload: ReactivationWindowClosingPayload


class ServiceDeactivated(Event):
    """The reactivation window closed: the panel revokes access."""

    type: Literal["orders.service.deactivated"] = "orders.service.deactivated"
    payload: ServiceChangePayload


class StorageThresholdCrossedPayload(Contract):
    service: ServiceState
    used_bytes: int = Field(ge=0)
    quota_bytes: int = Field(ge=0)
    threshold_percent: int = Field(ge=1, le=100)


class StorageThresholdCrossed(Event):
    """Use went above the product's threshold (once per upward crossing)."""

    type: Literal["orders.service.storage_threshold_crossed"] = (
        "orders.service.storage_threshold_crossed"
    )
    payload: StorageThresholdCrossedPayload


ORDERS_ORDER = TopicSpec(
    name="orders.order.v1",
    producer="orders",
    events=(OrderPlaced, OrderCancelled, OrderPaid, OrderPaymentRefused, OrderPaymentMismatched),
    description="Life of each order, keyed by order id.",
)
ORDERS_SERVICE = TopicSpec(
    name="orders.service.v1",
    producer="orders",
    events=(
        ServiceActivated,
        ServiceRenewed,
        ServiceReactivated,
        ServiceUpgraded,
        AutomaticRenewalSwitched,
        AutomaticRenewalUpcoming,
        ServiceExpiring,
        ServiceExpired,
        ReactivationWindowClosing,
        ServiceDeactivated,
        StorageThresholdCrossed,
    ),
    description="Life of each customer's service, keyed by service id; carries its state.",
)
