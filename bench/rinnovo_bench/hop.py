"""One hop through the runtime: consume, validate, inbox, guarded update, outbox, relay.

A small service built only for this benchmark on the real ``ServiceRuntime``: it consumes
``orders.order.placed`` events (FastStream subscriber, the topic's schema validation, the
dead-letter middleware, commit after processing), applies each to one aggregate with
``rinnovo.runtime.aggregates.apply_once`` (inbox + version guard + an outbox event
``payments.payment.requested``), and the runtime's relay publishes that event. The rate is
messages from the first one handled until the last outbox event is acknowledged by Kafka.

Database commands per message: ``find_one`` by id (read), the guarded ``update_one``
(write), the relay's ``find`` of pending documents (a read per pass, shared) and its
``update_one`` emptying the outbox (write): two writes per message, plus a lease renewal
per relay pass.
"""

import time
from collections.abc import Mapping
from typing import Any

from rinnovo.contracts import Event
from rinnovo.contracts.orders import OrderPlaced
from rinnovo.contracts.topics import ORDERS_ORDER, PAYMENTS_PAYMENT
from rinnovo.runtime import aggregates
from rinnovo.runtime.kafka import ensure_topics
from rinnovo.runtime.service import ServiceRuntime
from rinnovo.runtime.settings import InfraSettings, ServiceSettings
from rinnovo_bench.baselines import preload
from rinnovo_bench.common import Json, Options, drop_database, repeat, summary, unique, until
from rinnovo_bench.envelopes import fresh, order_placed, payment_requested

WRITES_PER_MESSAGE = 2
PUBLISHED = "rinnovo_outbox_published_total"


class HopService:
    """The bench service: what a payments-like service does with an order placed."""

    def __init__(self, runtime: ServiceRuntime) -> None:
        self.runtime = runtime
        self.accounts = runtime.db["accounts"]
        self.handled = 0
        self.first_at = 0.0
        runtime.produces(PAYMENTS_PAYMENT)
        runtime.with_outbox(self.accounts)
        runtime.subscribe(ORDERS_ORDER, self.on_order)

    async def on_order(self, event: Event) -> None:
        if not isinstance(event, OrderPlaced):
            return
        if self.handled == 0:
            self.first_at = time.perf_counter()

        def decide(doc: Mapping[str, Any] | None) -> aggregates.Change:
            version = (doc or {}).get(aggregates.VERSION, 0)
            count = (doc or {}).get("orders", 0)
            return aggregates.Change(
                {"orders": count + 1, "last_order": event.payload.order_id},
                [payment_requested(event.aggregate_id, version + 1, event)],
            )

        await aggregates.apply_once(self.accounts, event.aggregate_id, str(event.event_id), decide)
        self.handled += 1
        self.runtime.wake_relay()

    def published(self) -> float:
        return self.runtime.metrics.registry.get_sample_value(PUBLISHED) or 0.0


def build(options: Options) -> HopService:
    infra = InfraSettings(
        kafka_bootstrap_servers=options.kafka,
        mongodb_url=options.mongodb,
        kafka_topic_prefix=unique("bench.hop.") + ".",
    )
    settings = ServiceSettings(infra=infra, database=unique("bench_hop_"), log_level="WARNING")
    return HopService(ServiceRuntime("benchhop", settings))


async def seed(service: HopService, documents: int) -> None:
    """The aggregates the events update, written as ``aggregates.insert`` writes them."""
    docs = []
    for i in range(documents):
        event = order_placed(f"a{i}")
        docs.append(
            {
                "_id": f"a{i}",
                "orders": 0,
                "last_order": event.payload.order_id,
                aggregates.VERSION: 1,
                "outbox": [],
                aggregates.INBOX: [],
            }
        )
    await service.accounts.insert_many(docs)


async def hop_once(options: Options, documents: int, n: int) -> float:
    service = build(options)
    infra = service.runtime.settings.infra
    await ensure_topics(infra, [ORDERS_ORDER, PAYMENTS_PAYMENT])
    await seed(service, documents)
    template = order_placed()
    messages = []
    for i in range(n):
        event = fresh(template, f"a{i % documents}")
        messages.append((event.aggregate_id.encode(), event.model_dump_json().encode()))
    await preload(options.kafka, infra.kafka_topic_prefix + ORDERS_ORDER.name, messages)
    try:
        async with service.runtime.running():
            await until(lambda: service.published() >= n, timeout=600)
            rate = (n - 1) / (time.perf_counter() - service.first_at)
        assert service.handled == n
        return rate
    finally:
        await drop_database(options.mongodb, service.runtime.db.name)


async def run(options: Options, documents: int, baselines: Json) -> Json:
    n = options.pick(100, 600)
    rates = await repeat(options.repetitions, lambda _: hop_once(options, documents, n))
    hop = summary(rates, "msgs/s") | {"messages": n, "collection_documents": documents}
    b_k, b_m, b_m_g = baselines["B_k"], baselines["B_m"], baselines["B_m_guarded"]
    b_k_batch, b_m_bulk = baselines["B_k_batch"], baselines["B_m_bulk"]
    return {
        "hop": hop,
        "db_writes_per_message": WRITES_PER_MESSAGE,
        "db_ceiling": b_m["median"] / WRITES_PER_MESSAGE,
        "db_ceiling_guarded": b_m_g["median"] / WRITES_PER_MESSAGE,
        "db_ceiling_bulk": b_m_bulk["median"] / WRITES_PER_MESSAGE,
        "vs_B_k": summary([r / b_k["median"] for r in rates], "ratio"),
        "vs_B_k_batch": summary([r / b_k_batch["median"] for r in rates], "ratio"),
        "vs_db_ceiling": summary([r * WRITES_PER_MESSAGE / b_m["median"] for r in rates], "ratio"),
        "vs_db_bulk_ceiling": summary(
            [r * WRITES_PER_MESSAGE / b_m_bulk["median"] for r in rates], "ratio"
        ),
        "targets": {"msgs_per_s": 1000, "vs_B_k_batch": 0.5},
    }
