"""Dead letters as operators handle them: read from ``<topic>.DLT``, sent back to their
source topic once what made them fail is fixed, each replay recorded.

A replay is recorded before it is sent (``sending``) and marked ``replayed`` with where it
landed once Kafka has acknowledged it, in the operators' own database. A dead letter marked
``replayed`` is never sent again; one left ``sending`` (the command stopped half-way) is
sent again by the next replay: the consumers' inboxes make a second copy harmless.
"""

import asyncio
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from rinnovo.contracts.topics import DLT_SUFFIX
from rinnovo.runtime.consumer_groups import topic_partitions

DLT_HEADER = "dlt-"
REPLAY_OF = "rinnovo-replay-of"
"""Header of a replayed record: the dead letter it was sent back from."""
READ_TIMEOUT = 30.0


@dataclass(frozen=True)
class DeadLetter:
    topic: str
    """The dead-letter topic, as on the cluster (with the deployment's prefix)."""
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: Mapping[str, str]

    @property
    def position(self) -> str:
        return f"{self.partition}:{self.offset}"

    @property
    def id(self) -> str:
        return f"{self.topic}:{self.position}"

    def header(self, name: str) -> str:
        return self.headers.get(f"{DLT_HEADER}{name}", "")

    @property
    def source(self) -> str:
        """The topic it came from (where a replay sends it)."""
        return self.header("original-topic") or self.topic.removesuffix(DLT_SUFFIX)

    def replayed(self, value: bytes | None = None) -> tuple[bytes, dict[str, str]]:
        """What a replay sends: the value (or its fix) and the original headers, without
        the dead letter's, naming the dead letter it comes from."""
        headers = {k: v for k, v in self.headers.items() if not k.startswith(DLT_HEADER)}
        return (self.value if value is None else value), {**headers, REPLAY_OF: self.id}


def parse_position(text: str) -> tuple[int, int]:
    """``PARTITION:OFFSET`` as ``rinnovo dlt list`` shows it."""
    partition, sep, offset = text.partition(":")
    if not sep or not partition.isdigit() or not offset.isdigit():
        raise ValueError(f"{text!r} is not PARTITION:OFFSET (as `rinnovo dlt list` shows)")
    return int(partition), int(offset)


async def dead_letter_topics(kafka: Mapping[str, Any], prefix: str) -> list[str]:
    admin = AIOKafkaAdminClient(**kafka)
    await admin.start()
    try:
        topics = await admin.list_topics()
    finally:
        await admin.close()
    return sorted(t for t in topics if t.startswith(prefix) and t.endswith(DLT_SUFFIX))


async def _partitions(kafka: Mapping[str, Any], topic: str) -> list[TopicPartition]:
    admin = AIOKafkaAdminClient(**kafka)
    await admin.start()
    try:
        return await topic_partitions(admin, [topic])
    finally:
        await admin.close()


def _letter(record: Any) -> DeadLetter:
    return DeadLetter(
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        key=record.key,
        value=record.value or b"",
        headers={k: v.decode(errors="replace") for k, v in record.headers or ()},
    )


async def read_dead_letters(
    kafka: Mapping[str, Any], topic: str, at: tuple[int, int] | None = None
) -> list[DeadLetter]:
    """Every dead letter of ``topic`` up to its end now, or only the one ``at`` a position."""
    wanted = [tp for tp in await _partitions(kafka, topic) if at is None or tp.partition == at[0]]
    if not wanted:
        return []
    # An assigned partition's position is reset in the background (to the end by default),
    # racing with the seek below: reset to the beginning, so both land there.
    consumer = AIOKafkaConsumer(**kafka, enable_auto_commit=False, auto_offset_reset="earliest")
    await consumer.start()
    try:
        consumer.assign(wanted)
        ends = await consumer.end_offsets(wanted)
        letters: list[DeadLetter] = []
        async with asyncio.timeout(READ_TIMEOUT):
            for tp in wanted:
                if at is not None:
                    if at[1] >= ends[tp]:
                        return []
                    consumer.seek(tp, at[1])
                    record = await consumer.getone(tp)
                    return [_letter(record)] if record.offset == at[1] else []
                await consumer.seek_to_beginning(tp)
                while await consumer.position(tp) < ends[tp]:
                    batch = await consumer.getmany(tp, timeout_ms=500)
                    letters += [_letter(r) for r in batch.get(tp, []) if r.offset < ends[tp]]
        return letters
    finally:
        await consumer.stop()


class Replays:
    """The record of replays: one document per dead letter, keyed by its id."""

    def __init__(self, collection: AsyncCollection[dict[str, Any]]) -> None:
        self.collection = collection

    async def of(self, letters: Sequence[DeadLetter]) -> dict[str, dict[str, Any]]:
        cursor = self.collection.find({"_id": {"$in": [d.id for d in letters]}})
        return {doc["_id"]: doc async for doc in cursor}

    async def begin(self, letter: DeadLetter, value: bytes, by: str) -> dict[str, Any] | None:
        """Record that ``letter`` is being sent; None if it was, or is being, already."""
        try:
            await self.collection.insert_one(
                {
                    "_id": letter.id,
                    "status": "sending",
                    "source": letter.source,
                    "reason": letter.header("reason"),
                    "value_sha256": hashlib.sha256(value).hexdigest(),
                    "fixed": value != letter.value,
                    "by": by,
                    "began_at": datetime.now(UTC),
                }
            )
        except DuplicateKeyError:
            earlier = await self.collection.find_one({"_id": letter.id})
            if earlier is not None and earlier["status"] == "replayed":
                return earlier
            # Left half-way: send it again (the consumers drop a copy they have applied).
        return None

    async def done(self, letter: DeadLetter, partition: int, offset: int) -> None:
        await self.collection.update_one(
            {"_id": letter.id},
            {
                "$set": {
                    "status": "replayed",
                    "sent_to": {"topic": letter.source, "partition": partition, "offset": offset},
                    "replayed_at": datetime.now(UTC),
                }
            },
        )


@dataclass(frozen=True)
class Replayed:
    letter: DeadLetter
    earlier: dict[str, Any] | None = None
    """The record of an earlier replay: this one sent nothing."""
    partition: int | None = None
    offset: int | None = None


async def replay(
    kafka: Mapping[str, Any],
    replays: Replays,
    letters: Sequence[DeadLetter],
    by: str,
    value: bytes | None = None,
) -> list[Replayed]:
    """Send each dead letter back to its source topic once, in order (the fixed ``value``
    in place of one's own, when given)."""
    producer = AIOKafkaProducer(**kafka, enable_idempotence=True, acks="all")
    await producer.start()
    done: list[Replayed] = []
    try:
        for letter in letters:
            body, headers = letter.replayed(value)
            earlier = await replays.begin(letter, body, by)
            if earlier is not None:
                done.append(Replayed(letter, earlier))
                continue
            sent = await producer.send_and_wait(
                letter.source,
                body,
                key=letter.key,
                headers=[(k, v.encode()) for k, v in headers.items()],
            )
            await replays.done(letter, sent.partition, sent.offset)
            done.append(Replayed(letter, None, sent.partition, sent.offset))
    finally:
        await producer.stop()
    return done
