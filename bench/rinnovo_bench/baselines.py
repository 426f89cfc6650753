"""Baselines: what the bare clients do on the same servers, in the same run.

- B_k: a raw aiokafka loop (idempotent producer, ``acks=all``, 3 partitions, the envelope's
  size) that consumes each message, forwards one message and commits after it: the shape of
  one hop without any of our code, one message at a time.
- B_k_batch: the same with batches: ``getmany``, forward all, wait for their acks, commit
  once per batch (a consume-transform-produce loop's ceiling).
- B_m: a raw ``update_one`` loop by ``_id`` (default write concern, as the services use),
  one at a time, on a collection of the hop's size; also with a ``{_id, version}`` guard.
- B_m_bulk: updates by ``_id`` sent as one ``update`` command of 100 statements
  (``bulk_write`` of ``UpdateOne``), one command after the other.
- B_v: ``model_validate_json`` of a real envelope (an ``orders.order.placed``).
"""

import asyncio
import time
import timeit
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from pymongo import AsyncMongoClient, UpdateOne

from rinnovo.contracts.orders import OrderPlaced
from rinnovo.contracts.topics import ORDERS_ORDER
from rinnovo_bench.common import Json, Options, create_topics, repeat, summary, unique
from rinnovo_bench.envelopes import order_placed

PARTITIONS = 3
BULK = 100
"""Statements in one update command of B_m_bulk."""


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


async def kafka_loop(options: Options, n: int, batched: bool = False) -> float:
    """Messages/s of consume → forward → commit, once the consumer has its partitions:
    a commit per message, or (``batched``) one per ``getmany`` batch after its acks."""
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
        if batched:  # the first batch's work comes after ``first``
            first, last = await _forward_batches(consumer, out, sink, n)
            return n / (last - first)
        first, last = await _forward_one_by_one(consumer, out, sink, n)
        return (n - 1) / (last - first)
    finally:
        await consumer.stop()
        await out.stop()


async def _forward_one_by_one(
    consumer: AIOKafkaConsumer, out: AIOKafkaProducer, sink: str, n: int
) -> tuple[float, float]:
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
    return first, time.perf_counter()


async def _forward_batches(
    consumer: AIOKafkaConsumer, out: AIOKafkaProducer, sink: str, n: int
) -> tuple[float, float]:
    seen = 0
    first = 0.0
    while seen < n:
        batch = await consumer.getmany(timeout_ms=1000, max_records=500)
        records = [record for records in batch.values() for record in records]
        if not records:
            continue
        if seen == 0:
            first = time.perf_counter()
        sent = [await out.send(sink, r.value, key=r.key) for r in records]
        await asyncio.gather(*sent)
        await consumer.commit()
        seen += len(records)
    return first, time.perf_counter()


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


async def mongo_bulk_loop(options: Options, documents: int, n: int) -> float:
    """Updates/s by ``_id`` sent ``BULK`` statements to an ``update`` command."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(options.mongodb, tz_aware=True)
    db = client[unique("bench_bmb_")]
    try:
        filler = "x" * 1500
        await db.docs.insert_many(
            [{"_id": f"a{i}", "version": 1, "state": filler} for i in range(documents)]
        )
        started = time.perf_counter()
        for first in range(0, n, BULK):
            statements = [
                UpdateOne({"_id": f"a{i % documents}"}, {"$set": {"n": i}})
                for i in range(first, min(n, first + BULK))
            ]
            result = await db.docs.bulk_write(statements, ordered=False)
            assert result.matched_count == len(statements)
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
    n_batched = options.pick(1000, 10000)
    b_k_batch = await repeat(reps, lambda _: kafka_loop(options, n_batched, batched=True))
    b_m = await repeat(reps, lambda _: mongo_loop(options, documents, n_mongo, guarded=False))
    b_m_guarded = await repeat(
        reps, lambda _: mongo_loop(options, documents, n_mongo, guarded=True)
    )
    n_bulk = options.pick(5, 20) * BULK
    b_m_bulk = await repeat(reps, lambda _: mongo_bulk_loop(options, documents, n_bulk))
    b_v = [validation_rate(n_valid) for _ in range(reps)]
    parse = [topic_parse_rate(n_valid) for _ in range(reps)]
    return {
        "envelope_bytes": len(order_placed().model_dump_json()),
        "partitions": PARTITIONS,
        "collection_documents": documents,
        "B_k": summary(b_k, "msgs/s") | {"messages": n_kafka},
        "B_k_batch": summary(b_k_batch, "msgs/s") | {"messages": n_batched},
        "B_m": summary(b_m, "updates/s") | {"updates": n_mongo},
        "B_m_guarded": summary(b_m_guarded, "updates/s") | {"updates": n_mongo},
        "B_m_bulk": summary(b_m_bulk, "updates/s") | {"updates": n_bulk, "per_command": BULK},
        "B_v": summary(b_v, "validations/s"),
        "topic_parse": summary(parse, "validations/s"),
    }
