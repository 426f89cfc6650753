"""One renewal is one trace: the services as processes export their spans over OTLP to a
receiver of the test's own, and the renewal's spans, from the checkout to the e-mail, hang
together in one trace, in the order things happened.

The renewal touches orders, payments and the notifier (the catalog takes no part in it:
orders and payments price from their replicas of its snapshots), so the catalog's spans are
checked on a flow of its own: a price change published by the catalog is one trace with
its consumption in orders and in payments.
"""

import itertools
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from rinnovo.devstack.stack import LocalStack
from rinnovo.testing.otlp import OtlpReceiver, ReceivedSpan
from rinnovo.testing.payment_providers import camt053
from rinnovo.testing.smtp import SmtpServer
from tests.e2e.system import System, eventually, running_system
from tests.e2e.test_journeys import (
    import_service,
    import_statement,
    mail_subjects,
    payment_of,
    place_order,
    today,
)

pytestmark = pytest.mark.integration

EMAIL = "studio.traccia@example.it"


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    receiver = OtlpReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
async def traced_system(
    local_stack: LocalStack, smtp: SmtpServer, tmp_path: Path, receiver: OtlpReceiver
) -> AsyncIterator[System]:
    tracing = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
        "OTEL_BSP_SCHEDULE_DELAY": "200",  # export within a fraction of a second
    }
    async with running_system(local_stack, smtp, tmp_path / "logs", environment=tracing) as s:
        yield s


class Trace:
    def __init__(self, spans: list[ReceivedSpan]) -> None:
        self.spans = spans
        self.by_id = {s.span_id: s for s in spans}

    def one(self, check: Callable[[ReceivedSpan], bool], what: str) -> ReceivedSpan:
        found = [s for s in self.spans if check(s)]
        assert len(found) == 1, f"{what}: {len(found)} spans\n" + "\n".join(
            f"{s.service} {s.kind} {s.name}" for s in self.spans
        )
        return found[0]

    def ancestors(self, span: ReceivedSpan) -> list[str]:
        chain = []
        while span.parent_id:
            chain.append(span.parent_id)
            span = self.by_id[span.parent_id]
        return chain

    @property
    def whole(self) -> bool:
        """Every parent named is in the trace: nothing is still to arrive."""
        return all(not s.parent_id or s.parent_id in self.by_id for s in self.spans)


def trace_of(receiver: OtlpReceiver, trace_id: str) -> Trace:
    return Trace([s for s in receiver.snapshot() if s.trace_id == trace_id])


async def server_span(receiver: OtlpReceiver, service: str, route: str) -> ReceivedSpan:
    """The one request to ``route`` of ``service``, once exported."""
    found: list[ReceivedSpan] = []

    async def exported() -> bool:
        found[:] = [
            s
            for s in receiver.snapshot()
            if s.service == f"rinnovo-{service}" and s.kind == "server" and s.name == route
        ]
        return bool(found)

    await eventually(exported, what=f"the span of {route}")
    [span] = found
    return span


Match = Callable[[ReceivedSpan], bool]


def publish_of(event_type: str) -> Match:
    def match(s: ReceivedSpan) -> bool:
        return s.kind == "producer" and s.attributes.get("cloudevents.event_type") == event_type

    return match


def consumed(service: str, topic: str, published: ReceivedSpan) -> Match:
    """The consumer span of ``service`` that processed what ``published`` sent."""

    def match(s: ReceivedSpan) -> bool:
        return (
            s.service == f"rinnovo-{service}"
            and s.kind == "consumer"
            and s.name.endswith(f"{topic} process")
            and s.parent_id == published.span_id
        )

    return match


def named(name: str, **attributes: str) -> Match:
    def match(s: ReceivedSpan) -> bool:
        return s.name == name and all(s.attributes.get(k) == v for k, v in attributes.items())

    return match


async def complete(receiver: OtlpReceiver, trace_id: str, last: Match) -> Trace:
    async def arrived() -> bool:
        found = trace_of(receiver, trace_id)
        return found.whole and any(last(s) for s in found.spans)

    await eventually(arrived, what="the whole trace exported")
    return trace_of(receiver, trace_id)


async def renew_by_bank_transfer(system: System, customer: str) -> None:
    """The customer renews; the bank's statement pays; the renewal e-mail arrives."""
    await import_service(
        system,
        customer,
        expiry_date=(await today(system) + timedelta(days=120)).isoformat(),
        holder={"name": "Studio Traccia", "email": EMAIL, "locale": "it"},
    )
    order = await place_order(
        system,
        customer,
        {"kind": "renewal", "service_id": f"svc-{customer}"},
        {"payment_method": "bank_transfer"},
    )
    await payment_of(system, customer, order)
    statement = camt053(
        "TRACE-STMT", [("TRACE-1", order["total_cents"], "CRDT", f"Rinnovo {order['number']}")]
    )
    assert (await import_statement(system, statement, "application/xml"))["registered"] == 1
    subjects = await mail_subjects(system, EMAIL, 2)
    assert subjects[1].startswith("Rinnovo completato")


async def test_a_renewal_is_one_trace_from_the_checkout_to_the_email(
    traced_system: System, receiver: OtlpReceiver
) -> None:
    await renew_by_bank_transfer(traced_system, "c-trace")

    checkout = await server_span(receiver, "orders", "POST /v1/carts/{cart_id}/checkout")
    import_request = await server_span(receiver, "payments", "POST /v1/admin/statements")
    renewal_mail = named("deliver email", template="renewal_completed")
    trace = await complete(receiver, checkout.trace_id, renewal_mail)

    # One trace, rooted at the customer's checkout.
    assert [s for s in trace.spans if not s.parent_id] == [checkout]
    assert {"rinnovo-orders", "rinnovo-payments", "rinnovo-notifier"} <= {
        s.service for s in trace.spans
    }
    # Each step caused by the one before it, and after it.
    placed = trace.one(publish_of("orders.order.placed"), "order placed, published")
    in_payments = trace.one(consumed("payments", "orders.order.v1", placed), "in payments")
    requested = trace.one(publish_of("payments.payment.requested"), "payment requested")
    registering = trace.one(
        named("money received", source="statement"), "the statement's credit registered"
    )
    registered = trace.one(publish_of("payments.payment.registered"), "payment registered")
    in_orders = trace.one(consumed("orders", "payments.payment.v1", registered), "in orders")
    renewed = trace.one(publish_of("orders.service.renewed"), "service renewed, published")
    in_notifier = trace.one(consumed("notifier", "orders.service.v1", renewed), "in notifier")
    mail = trace.one(renewal_mail, "the renewal e-mail sent")
    steps = [checkout, placed, in_payments, registering, registered, in_orders, renewed]
    steps += [in_notifier, mail]
    for before, after in itertools.pairwise(steps):
        assert before.span_id in trace.ancestors(after), (before.name, after.name)
        assert before.start_ns <= after.start_ns, (before.name, after.name)
    assert in_payments.span_id in trace.ancestors(requested)
    assert requested.start_ns < registering.start_ns
    # The statement's import, a request of its own, is linked from the registration.
    assert (import_request.trace_id, import_request.span_id) in registering.links
    # Database commands are in it too, and nothing about who the customer is.
    assert any(s.attributes.get("db.system") == "mongodb" for s in trace.spans)
    for span in receiver.snapshot():
        assert EMAIL not in repr(span.attributes)
        assert "client.address" not in span.attributes
        assert "net.peer.ip" not in span.attributes


async def test_a_catalog_change_is_one_trace_with_its_replicas(
    traced_system: System, receiver: OtlpReceiver
) -> None:
    system = traced_system
    effective = (await today(system) + timedelta(days=60)).isoformat()
    async with system.admin("catalog") as admin:
        priced = await admin.post(
            "/v1/admin/products/fe-standard/price-versions",
            json={
                "effective_from": effective,
                "base_yearly_cents": 2700,
                "option_unit_yearly_cents": {"storage": 1000, "extra-user": 500, "nso": 1500},
            },
        )
    assert priced.status_code == 201, priced.text
    change = await server_span(
        receiver, "catalog", "POST /v1/admin/products/{product_id}/price-versions"
    )
    snapshot = publish_of("catalog.product.snapshot")

    async def replicated() -> bool:
        found = trace_of(receiver, change.trace_id)
        published = [s for s in found.spans if snapshot(s)]
        return (
            found.whole
            and len(published) == 1
            and all(
                any(consumed(name, "catalog.product.v1", published[0])(s) for s in found.spans)
                for name in ("orders", "payments")
            )
        )

    await eventually(replicated, what="the snapshot's trace, consumed by orders and payments")
    trace = trace_of(receiver, change.trace_id)
    assert [s for s in trace.spans if not s.parent_id] == [change]
    published = trace.one(snapshot, "the snapshot, published")
    for name in ("orders", "payments"):
        trace.one(consumed(name, "catalog.product.v1", published), f"consumed by {name}")
