"""What the payments service reads of the events it consumes (checked against every
published version by ``rinnovo contracts check``)."""

from datetime import date

from rinnovo.contracts.catalog import ProductSnapshot
from rinnovo.contracts.orders import CancelReason, OrderKind, PaymentRefusedReason
from rinnovo.contracts.views import ConsumerViews, EventView, View


class HolderFields(View):
    customer_id: str
    name: str
    email: str
    locale: str = "it"


class OrderPlacedFields(View):
    order_id: str
    number: str
    kind: OrderKind
    service_id: str
    product_id: str
    holder: HolderFields
    payment_method: str
    payment_due: date
    total_cents: int


class OrderPlacedRead(EventView):
    payload: OrderPlacedFields


class OrderCancelledFields(View):
    order_id: str
    reason: CancelReason


class OrderCancelledRead(EventView):
    payload: OrderCancelledFields


class PaymentRefusedFields(View):
    order_id: str
    number: str
    payment_id: str
    amount_cents: int
    reason: PaymentRefusedReason


class PaymentRefusedRead(EventView):
    payload: PaymentRefusedFields


class PaymentMismatchedFields(View):
    order_id: str
    number: str
    payment_id: str
    amount_cents: int
    written_off_cents: int
    expected_cents: int


class PaymentMismatchedRead(EventView):
    payload: PaymentMismatchedFields


class ProductRead(EventView):
    aggregate_id: str
    aggregate_version: int
    payload: ProductSnapshot  # the whole product: the replica keeps it


VIEWS: ConsumerViews = {
    "orders.order.placed": OrderPlacedRead,
    "orders.order.cancelled": OrderCancelledRead,
    "orders.order.payment_refused": PaymentRefusedRead,
    "orders.order.payment_mismatched": PaymentMismatchedRead,
    "catalog.product.snapshot": ProductRead,
}
