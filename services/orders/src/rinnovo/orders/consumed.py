"""What the orders service reads of the events it consumes (checked against every published
version by ``rinnovo contracts check``)."""

from pydantic import AwareDatetime

from rinnovo.contracts.catalog import ConventionCodeSnapshot, ProductSnapshot
from rinnovo.contracts.views import ConsumerViews, EventView, View


class SnapshotEnvelope(EventView):
    """A catalog snapshot replaces the replica's copy when its version is newer."""

    aggregate_id: str
    aggregate_version: int


class ProductRead(SnapshotEnvelope):
    payload: ProductSnapshot  # the whole product: the replica keeps it for pricing and policy


class ConventionCodeRead(SnapshotEnvelope):
    payload: ConventionCodeSnapshot  # the whole code: quotes apply it


class PaymentRegisteredFields(View):
    order_id: str
    payment_id: str
    amount_cents: int
    registered_at: AwareDatetime
    written_off_cents: int | None = None


class PaymentRegisteredRead(EventView):
    payload: PaymentRegisteredFields


class UsageFields(View):
    service_id: str
    used_bytes: int
    measured_at: AwareDatetime


class UsageReportedRead(EventView):
    payload: UsageFields


VIEWS: ConsumerViews = {
    "catalog.product.snapshot": ProductRead,
    "catalog.convention_code.snapshot": ConventionCodeRead,
    "payments.payment.registered": PaymentRegisteredRead,
    "panel.usage.reported": UsageReportedRead,
}
