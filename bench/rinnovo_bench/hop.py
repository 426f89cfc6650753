"""One hop through the runtime: consume, validate, inbox, guarded update, outbox, relay.

A small service built only for this benchmark on the real ``ServiceRuntime``, as the
services are: it consumes ``orders.order.placed`` events (the runtime's batch consumer, the
topic's schema validation, dead letters, offsets committed once a batch's effects are
stored), changes one aggregate per event with ``rinnovo.runtime.changes.Changes`` over
``MongoAggregates`` (inbox + version guard + an outbox event ``payments.payment.requested``;
within a batch the unit of work reads its aggregates in one query and writes each changed
one once, in one bulk write), and the runtime's relay publishes that event. The rate is
messages from the first one handled until the last outbox event is acknowledged by Kafka.

Document writes per message: at most two, the guarded update carrying the inbox id and the
outbox event, and the relay's forgetting of that event; fewer when a batch holds several
events of one aggregate, which are written together. Commands are fewer still: one bulk
write per batch, one ``find`` and one bulk write per relay pass, plus its lease renewals.
"""

import time
from dataclasses import dataclass

from rinnovo.contracts import Event
from rinnovo.contracts.orders import OrderPlaced
from rinnovo.contracts.topics import ORDERS_ORDER, PAYMENTS_PAYMENT
from rinnovo.runtime import aggregates
from rinnovo.runtime.changes import Changes, Decision, Stored
from rinnovo.runtime.documents import StateCodec
from rinnovo.runtime.kafka import ensure_topics
from rinnovo.runtime.mongo_aggregates import MongoAggregates
from rinnovo.runtime.service import ServiceRuntime
from rinnovo.runtime.settings import InfraSettings, ServiceSettings
from rinnovo_bench.baselines import preload
from rinnovo_bench.common import Json, Options, drop_database, repeat, summary, unique, until
from rinnovo_bench.envelopes import fresh, order_placed, payment_requested

WRITES_PER_MESSAGE = 2
PUBLISHED = "rinnovo_outbox_published_total"


@dataclass(frozen=True)
class Account:
    orders: int
    last_order: str


ACCOUNT = StateCodec(Account)


class HopService:
    """The bench service: what a payments-like service does with an order placed."""

    def __init__(self, runtime: ServiceRuntime) -> None:
        self.runtime = runtime
        self.collection = runtime.db["accounts"]
        self.accounts = Changes(MongoAggregates(self.collection, ACCOUNT), runtime.wake_relay)
        self.handled: set[str] = set()
        self.first_at = 0.0
        runtime.produces(PAYMENTS_PAYMENT)
        runtime.with_outbox(self.collection)
        runtime.subscribe(ORDERS_ORDER, self.on_order)

    async def on_order(self, event: Event) -> None:
        if not isinstance(event, OrderPlaced):
            return
        if not self.handled:
            self.first_at = time.perf_counter()

        def decide(stored: Stored[Account]) -> Decision[Account]:
            account = Account(stored.value.orders + 1, event.payload.order_id)
            requested = payment_requested(event.aggregate_id, stored.next_version, event)
            return Decision(account, [requested])

        await self.accounts.change(event.aggregate_id, decide, cause=event)
        self.handled.add(str(event.event_id))

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
    """The aggregates the events change, as ``MongoAggregates`` stores new ones."""
    first = Account(0, order_placed().payload.order_id)
    docs = [aggregates.new_document(f"a{i}", ACCOUNT.encode(first)) for i in range(documents)]
    await service.collection.insert_many(docs)


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
        assert len(service.handled) == n
        return rate
    finally:
        await drop_database(options.mongodb, service.runtime.db.name)


async def run(options: Options, documents: int, baselines: Json) -> Json:
    n = options.pick(1000, 6000)
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
