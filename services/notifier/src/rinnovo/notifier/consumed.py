"""What the notifier reads of the events it consumes: the facts its messages show (see
``domain/compose.py``). Checked against every published version by ``rinnovo contracts
check``; the events it ignores are not listed."""

from datetime import date

from pydantic import AwareDatetime

from rinnovo.contracts.orders import CancelReason, OrderKind
from rinnovo.contracts.payments import InstructionsKind
from rinnovo.contracts.views import ConsumerViews, EventView, View


class Cause(EventView):
    """The envelope a notification records as its cause."""

    aggregate_id: str
    occurred_at: AwareDatetime


class Holder(View):
    customer_id: str
    name: str
    email: str
    locale: str = "it"  # an unknown or missing language falls back to the default


class AutomaticRenewal(View):
    enabled: bool


class Components(View):
    storage_gb: int
    extra_users: int
    nso: bool


class Service(View):
    service_id: str
    holder: Holder
    username: str
    expiry_date: date | None
    components: Components
    automatic_renewal: AutomaticRenewal


class OrderPlacedFields(View):
    order_id: str
    number: str
    kind: OrderKind
    service_id: str
    username: str
    product_name: str
    holder: Holder
    payment_due: date
    payment_method: str
    term_years: int
    total_cents: int


class OrderPlacedRead(Cause):
    payload: OrderPlacedFields


class OrderCancelledFields(View):
    order_id: str
    number: str
    holder: Holder
    reason: CancelReason
    cancelled_at: AwareDatetime
    total_cents: int


class OrderCancelledRead(Cause):
    payload: OrderCancelledFields


class ServiceChangeFields(View):
    service: Service
    order_id: str | None = None
    previous_expiry_date: date | None = None


class ServiceChangeRead(Cause):
    payload: ServiceChangeFields


class ExpiringFields(View):
    service: Service
    expiry_date: date
    days_left: int


class ExpiringRead(Cause):
    payload: ExpiringFields


class AutomaticRenewalUpcomingFields(View):
    service: Service
    charge_date: date
    days_left: int
    term_years: int
    payment_method: str
    total_cents: int
    renewed_until: date


class AutomaticRenewalUpcomingRead(Cause):
    payload: AutomaticRenewalUpcomingFields


class ExpiredFields(View):
    service: Service
    reactivation_deadline: date


class ExpiredRead(Cause):
    payload: ExpiredFields


class WindowClosingFields(View):
    service: Service
    reactivation_deadline: date
    days_left: int


class WindowClosingRead(Cause):
    payload: WindowClosingFields


class StorageFields(View):
    service: Service
    used_bytes: int
    quota_bytes: int
    threshold_percent: int


class StorageRead(Cause):
    payload: StorageFields


class Instructions(View):
    kind: InstructionsKind
    reference: str
    amount_cents: int
    due_date: date
    beneficiary: str | None = None
    iban: str | None = None
    bic: str | None = None
    postal_account: str | None = None
    checkout_url: str | None = None


class PaymentRequestedFields(View):
    order_number: str
    order_kind: OrderKind
    holder: Holder
    method: str
    amount_cents: int
    instructions: Instructions
    usual_registration_days: int


class PaymentRequestedRead(Cause):
    payload: PaymentRequestedFields


class PaymentRestRequestedFields(View):
    order_number: str
    order_kind: OrderKind
    holder: Holder
    method: str
    amount_cents: int
    received_cents: int
    rest_cents: int
    instructions: Instructions
    usual_registration_days: int


class PaymentRestRequestedRead(Cause):
    payload: PaymentRestRequestedFields


class ChargeAttemptedFields(View):
    order_number: str
    holder: Holder
    attempt: int
    succeeded: bool
    reason: str | None = None
    next_attempt_on: date | None = None
    amount_cents: int | None = None


class ChargeAttemptedRead(Cause):
    payload: ChargeAttemptedFields


class PaymentFailedFields(View):
    order_number: str
    holder: Holder
    reason: str
    attempts: int
    amount_cents: int | None = None


class PaymentFailedRead(Cause):
    payload: PaymentFailedFields


VIEWS: ConsumerViews = {
    "orders.order.placed": OrderPlacedRead,
    "orders.order.cancelled": OrderCancelledRead,
    "orders.service.activated": ServiceChangeRead,
    "orders.service.upgraded": ServiceChangeRead,
    "orders.service.renewed": ServiceChangeRead,
    "orders.service.reactivated": ServiceChangeRead,
    "orders.service.deactivated": ServiceChangeRead,
    "orders.service.expiring": ExpiringRead,
    "orders.service.automatic_renewal_upcoming": AutomaticRenewalUpcomingRead,
    "orders.service.expired": ExpiredRead,
    "orders.service.reactivation_window_closing": WindowClosingRead,
    "orders.service.storage_threshold_crossed": StorageRead,
    "payments.payment.requested": PaymentRequestedRead,
    "payments.payment.rest_requested": PaymentRestRequestedRead,
    "payments.payment.charge_attempted": ChargeAttemptedRead,
    "payments.payment.failed": PaymentFailedRead,
}
