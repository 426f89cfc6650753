"""Baselines: what the bare clients do on the same servers, in the same run.

- B_k: a raw aiokafka loop (idempotent producer, ``acks=all``, 3 partitions, the envelope's
  size) that consumes each message, forwards one message and commits after it: the shape of
  one hop without any of our code.
- B_m: a raw ``update_one`` loop by ``_id`` (default write concern, as the services use),
  one at a time, on a collection of the hop's size; also with a ``{_id, version}`` guard,
  which FerretDB 1.x cannot push down (see ``deploy/local/README.md``).
- B_v: ``model_validate_json`` of a real envelope (an ``orders.order.placed``).
"""

import asyncio
import time
import timeit
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from pymongo import AsyncMongoClient

from rinnovo.contracts.orders import OrderPlaced
from rinnovo.contracts.topics import ORDERS_ORDER
from rinnovo_bench.common import Json, Options, create_topics, repeat, summary, unique
from rinnovo_bench.envelopes import order_placed

PARTITIONS = 3


def producer(bootstrap: str) -> AIOKafkaProducer:
    """As ``rinnovo.runtime.kafka.make_producer`` configures the producer events leave through."""
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap, enable_idempotence=True, acks="all", linger_ms=2
    )


async def preload(bootstrap: str, topic: str, messages: list[tuple[bytes, bytes]]) -> None:
    out = producer(bootstrap)
    await out.start()
    try:
        sent = [await out.send(topic, value, key=key) for key, value in messages]
        await asyncio.gather(*sent)
    finally:
        await out.stop()


async def kafka_loop(options: Options, n: int) -> float:
    """Messages/s of consume → forward → commit, once the consumer has its partitions."""
    source, sink = unique("bench.bk.in."), unique("bench.bk.out.")
    await create_topics(options.kafka, [source, sink], PARTITIONS)
    body = order_placed().model_dump_json().encode()
    await preload(options.kafka, source, [(f"a{i}".encode(), body) for i in range(n)])
    out = producer(options.kafka)
    consumer = AIOKafkaConsumer(
        source,
        bootstrap_servers=options.kafka,
        group_id=unique("bench-bk-"),
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await out.start()
    await consumer.start()
    try:
        seen = 0
        first = 0.0
        pending = []
        async for message in consumer:
            if seen == 0:
                first = time.perf_counter()
            pending.append(await out.send(sink, message.value, key=message.key))
            await consumer.commit()
            seen += 1
            if seen == n:
                break
        await asyncio.gather(*pending)
        return (n - 1) / (time.perf_counter() - first)
    finally:
        await consumer.stop()
        await out.stop()


async def mongo_loop(options: Options, documents: int, n: int, guarded: bool) -> float:
    """Sequential ``update_one``/s on a collection of ``documents`` documents."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(options.mongodb, tz_aware=True)
    db = client[unique("bench_bm_")]
    try:
        filler = "x" * 1500  # about the size of an aggregate's state with its outbox
        await db.docs.insert_many(
            [{"_id": f"a{i}", "version": 1, "state": filler} for i in range(documents)]
        )
        started = time.perf_counter()
        for i in range(n):
            id_ = f"a{i % documents}"
            version = 1 + i // documents
            filter_: dict[str, Any] = {"_id": id_, "version": version} if guarded else {"_id": id_}
            result = await db.docs.update_one(filter_, {"$set": {"version": version + 1, "n": i}})
            assert result.matched_count == 1
        return n / (time.perf_counter() - started)
    finally:
        await client.drop_database(db.name)
        await client.close()


def validation_rate(n: int) -> float:
    """Envelopes validated per second, by the event's model and by the topic's union."""
    body = order_placed().model_dump_json().encode()
    seconds = timeit.timeit(lambda: OrderPlaced.model_validate_json(body), number=n)
    return n / seconds


def topic_parse_rate(n: int) -> float:
    body = order_placed().model_dump_json().encode()
    seconds = timeit.timeit(lambda: ORDERS_ORDER.parse(body), number=n)
    return n / seconds


async def run(options: Options, documents: int) -> Json:
    reps = options.repetitions
    n_kafka = options.pick(300, 3000)
    n_mongo = options.pick(100, 600)
    n_valid = options.pick(5000, 20000)

    b_k = await repeat(reps, lambda _: kafka_loop(options, n_kafka))
    b_m = await repeat(reps, lambda _: mongo_loop(options, documents, n_mongo, guarded=False))
    b_m_guarded = await repeat(
        reps, lambda _: mongo_loop(options, documents, n_mongo, guarded=True)
    )
    b_v = [validation_rate(n_valid) for _ in range(reps)]
    parse = [topic_parse_rate(n_valid) for _ in range(reps)]
    return {
        "envelope_bytes": len(order_placed().model_dump_json()),
        "partitions": PARTITIONS,
        "collection_documents": documents,
        "B_k": summary(b_k, "msgs/s") | {"messages": n_kafka},
        "B_m": summary(b_m, "updates/s") | {"updates": n_mongo},
        "B_m_guarded": summary(b_m_guarded, "updates/s") | {"updates": n_mongo},
        "B_v": summary(b_v, "validations/s"),
        "topic_parse": summary(parse, "validations/s"),
    }
