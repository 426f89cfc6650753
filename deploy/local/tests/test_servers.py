"""The real servers: Kafka round trip, the MongoDB operations we rely on, restarts, cleanup."""

import asyncio
import itertools
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer  # type: ignore[import-untyped,unused-ignore]
from bson import ObjectId
from pymongo import ASCENDING, AsyncMongoClient, ReturnDocument, UpdateOne
from pymongo.errors import DuplicateKeyError

from rinnovo.devstack import FerretDBServer, LocalStack

pytestmark = pytest.mark.integration


def _topic() -> str:
    return f"devstack-{uuid.uuid4().hex[:10]}"


async def _produce(bootstrap: str, topic: str, *values: bytes) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for value in values:
            await producer.send_and_wait(topic, value, key=b"k")
    finally:
        await producer.stop()


async def _consume(bootstrap: str, topic: str, count: int) -> list[bytes]:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"g-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
    )
    await consumer.start()
    values: list[bytes] = []
    try:
        async with asyncio.timeout(30.0):
            while len(values) < count:
                batch = await consumer.getmany(timeout_ms=200)
                for records in batch.values():
                    values.extend(record.value for record in records)
    finally:
        await consumer.stop()
    return values


def _alive(pid: int) -> bool:
    """Whether ``pid`` exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _processes_mentioning(text: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if text in cmdline and _alive(int(entry.name)):
            found.append(int(entry.name))
    return found


async def test_produce_and_consume_one_message(local_stack: LocalStack) -> None:
    topic = _topic()
    await _produce(local_stack.kafka_bootstrap_servers, topic, b"hello")
    assert await _consume(local_stack.kafka_bootstrap_servers, topic, 1) == [b"hello"]


async def test_mongodb_operations_we_rely_on(local_stack: LocalStack) -> None:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(local_stack.mongodb_url)
    try:
        assert (await client.admin.command("ping"))["ok"] == 1.0
        db = client[f"devstack_{uuid.uuid4().hex[:8]}"]
        items = db["items"]
        await items.create_index([("sku", ASCENDING)], unique=True)

        await items.insert_one({"sku": "a", "version": 1, "tags": ["old"], "count": 0})
        with pytest.raises(DuplicateKeyError):
            await items.insert_one({"sku": "a", "version": 1})

        # Optimistic concurrency: update only if the version is the one we read.
        result = await items.update_one(
            {"sku": "a", "version": 1},
            {"$push": {"tags": "new"}, "$set": {"version": 2}, "$inc": {"count": 5}},
        )
        assert (result.matched_count, result.modified_count) == (1, 1)
        result = await items.update_one(
            {"sku": "a", "version": 2}, {"$pull": {"tags": "old"}, "$set": {"version": 2}}
        )
        assert result.matched_count == 1
        stale = await items.update_one({"sku": "a", "version": 1}, {"$set": {"version": 9}})
        assert stale.matched_count == 0

        after = await items.find_one_and_update(
            {"sku": "a", "version": 2},
            {"$inc": {"count": 1}, "$set": {"version": 3}},
            return_document=ReturnDocument.AFTER,
        )
        assert after is not None
        assert (after["tags"], after["count"], after["version"]) == (["new"], 6, 3)

        upserted = await items.update_one(
            {"sku": "b"}, {"$setOnInsert": {"count": 0}, "$set": {"version": 1}}, upsert=True
        )
        assert upserted.upserted_id is not None
        created = await items.find_one_and_update(
            {"sku": "c"},
            {"$setOnInsert": {"version": 1}, "$inc": {"count": 1}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        assert created is not None
        assert (created["version"], created["count"]) == (1, 1)
        assert await items.count_documents({}) == 3
        await client.drop_database(db.name)
    finally:
        await client.close()


# Strings as FerretDB stores them in JSON: with and without escapes (patch 07 reads those
# without escapes as their bytes), with characters JSON writes escaped, and not ASCII.
AWKWARD_STRINGS = [
    "",
    "plain",
    'a "quoted" word',
    "back\\slash",
    "tab\tnew\nline\rreturn",
    "\x01\x1f control",
    "<b>&amp;</b>",
    "perché è già così",
    "emoji \U0001f600 and \u2028 separator",
    "x" * 10_000,
]


async def test_stored_values_read_back_exactly(local_stack: LocalStack) -> None:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(local_stack.mongodb_url)
    try:
        items = client[f"devstack_{uuid.uuid4().hex[:8]}"]["items"]
        when = datetime(2026, 3, 31, 22, 0, tzinfo=UTC).replace(tzinfo=None)
        doc = {
            "_id": "d1",
            "strings": AWKWARD_STRINGS,
            "nested": {s: {"value": s, "n": i} for i, s in enumerate(AWKWARD_STRINGS[1:4])},
            "numbers": [0, -1, 2**31 - 1, 2**40, 0.1, -2.5],
            "flags": [True, False, None],
            "when": when,
            "id": ObjectId("65a000000000000000000001"),
        }
        await items.insert_one(doc)
        assert await items.find_one({"_id": "d1"}) == doc
        # An update reads the stored document, changes it and writes it again.
        await items.update_one({"_id": "d1"}, {"$set": {"strings.1": "changed"}})
        changed = await items.find_one({"_id": "d1"})
        assert changed == doc | {"strings": [AWKWARD_STRINGS[0], "changed", *AWKWARD_STRINGS[2:]]}
        for text in AWKWARD_STRINGS:  # and each is found by equality
            assert await items.count_documents({"strings": text}) == (text != "plain")
    finally:
        await client.close()


async def test_single_document_writes_are_atomic_under_concurrency(
    local_stack: LocalStack,
) -> None:
    """Concurrent writers to one document lose nothing, as with MongoDB itself."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(local_stack.mongodb_url)
    collection = client[f"atomic_{uuid.uuid4().hex[:8]}"]["docs"]
    try:
        await collection.insert_one({"_id": 1, "n": 0, "version": 0, "seen": []})
        await asyncio.gather(
            *[collection.update_one({"_id": 1}, {"$inc": {"n": 1}}) for _ in range(100)]
        )
        won = 0

        async def guarded_append(i: int) -> None:
            nonlocal won
            while True:
                doc = await collection.find_one({"_id": 1})
                assert doc is not None
                result = await collection.update_one(
                    {"_id": 1, "version": doc["version"]},
                    {"$set": {"version": doc["version"] + 1}, "$push": {"seen": i}},
                )
                if result.modified_count:
                    won += 1
                    return

        await asyncio.gather(*[guarded_append(i) for i in range(30)])
        doc = await collection.find_one({"_id": 1})
        assert doc is not None
        assert doc["n"] == 100
        assert (won, doc["version"], sorted(doc["seen"])) == (30, 30, list(range(30)))
    finally:
        await client.close()


async def test_lookups_by_id_use_the_id_index(local_stack: LocalStack) -> None:
    """Reads and guarded writes by ``_id``, and ``_id`` ``$in`` lists, are index lookups, not
    scans (our FerretDB patches), and narrowing the read to the ``_id`` changes no result."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(local_stack.mongodb_url)
    database = client[f"byid_{uuid.uuid4().hex[:8]}"]
    collection = database["docs"]
    try:
        if "ferretdbVersion" not in await database.command("buildInfo"):
            pytest.skip("the patches concern the FerretDB the project builds")
        await collection.insert_many([{"_id": f"k{i}", "version": 1} for i in range(50)])
        for filter_ in ({"_id": "k5"}, {"_id": "k5", "version": 1}):
            explained = await database.command({"explain": {"find": "docs", "filter": filter_}})
            assert explained["filterPushdown"] is True, filter_
            assert any("USING INDEX" in step for step in explained["queryPlanner"]["Plan"])
        in_list = {"_id": {"$in": ["k3", "k7", "nope"]}}
        explained = await database.command({"explain": {"find": "docs", "filter": in_list}})
        assert any("USING INDEX" in step for step in explained["queryPlanner"]["Plan"])
        assert sorted([d["_id"] async for d in collection.find(in_list)]) == ["k3", "k7"]
        assert await collection.find_one({"_id": "k5", "version": 2}) is None
        stale = await collection.update_one({"_id": "k5", "version": 2}, {"$set": {"version": 3}})
        fresh = await collection.update_one({"_id": "k5", "version": 1}, {"$set": {"version": 2}})
        assert (stale.matched_count, fresh.modified_count) == (0, 1)
        assert await collection.count_documents({"version": 2}) == 1
    finally:
        await client.drop_database(database.name)
        await client.close()


async def test_string_equalities_use_the_field_index_and_keep_mongodb_matches(
    local_stack: LocalStack,
) -> None:
    """``{field: "x"}`` and ``{flag: true}`` read through the index (our FerretDB patch 03), and
    still match what MongoDB matches: arrays holding the value, escaped strings, not 1 for true."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(local_stack.mongodb_url)
    database = client[f"byfield_{uuid.uuid4().hex[:8]}"]
    collection = database["docs"]
    odd = ['a"b', "è", "<x>&", "back\\slash", "tab\t", "\U0001f600", "\u2028", "\x01"]
    try:
        if "ferretdbVersion" not in await database.command("buildInfo"):
            pytest.skip("the patches concern the FerretDB the project builds")
        await collection.create_index([("customer_id", ASCENDING)])
        await collection.insert_many(
            [{"_id": f"s{i}", "customer_id": f"c{i % 10}"} for i in range(100)]
        )
        await collection.insert_many(
            [{"_id": f"odd{i}", "customer_id": v} for i, v in enumerate(odd)]
        )
        await collection.insert_many(
            [
                {"_id": "array", "customer_id": ["zz", "c5"]},
                {"_id": "number", "customer_id": 5},
                {"_id": "object", "customer_id": {"c5": "c5"}},
                {"_id": "missing"},
            ]
        )

        async def ids(value: str) -> list[str]:
            return sorted([d["_id"] async for d in collection.find({"customer_id": value})])

        assert await ids("c5") == sorted(["array", *(f"s{i}" for i in range(5, 100, 10))])
        assert await ids("zz") == ["array"]
        for i, value in enumerate(odd):
            assert await ids(value) == [f"odd{i}"], value
        flags = database["flags"]
        await flags.insert_many(
            [
                {"_id": "t", "pending": True},
                {"_id": "f", "pending": False},
                {"_id": "a", "pending": [False, True]},
                {"_id": "n", "pending": 1},
                {"_id": "none"},
            ]
        )
        assert sorted([d["_id"] async for d in flags.find({"pending": True})]) == ["a", "t"]
        assert sorted([d["_id"] async for d in flags.find({"pending": False})]) == ["a", "f"]
        explained = await database.command(
            {"explain": {"find": "docs", "filter": {"customer_id": "c5"}}}
        )
        assert explained["filterPushdown"] is True
        plan = explained["queryPlanner"]["Plan"]
        assert sum("USING INDEX" in step for step in plan) == 2  # the value, and arrays
    finally:
        await client.drop_database(database.name)
        await client.close()


def _range_values() -> list[Any]:
    """Values of every type a range may meet, in one field: dates on both sides of 1970 and
    of 2001 (a shorter number of milliseconds), numbers of each type, strings that JSON
    escapes or that look like numbers, arrays, documents, null."""
    day = datetime(2026, 1, 1, tzinfo=UTC)
    return [
        datetime(1960, 1, 1, tzinfo=UTC),
        datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC),
        datetime(1999, 12, 31, tzinfo=UTC),
        datetime(2001, 9, 9, 1, 46, 40, tzinfo=UTC),
        *(day + timedelta(hours=h) for h in (-30, -1, 0, 1, 30)),
        -5,
        0,
        5,
        9,
        10,
        2**40,
        -0.5,
        1.5,
        1e300,
        "",
        "10",
        "9",
        "2026-01-01",
        "2026-01-01T00:00:00+00:00",
        "a",
        "a b",
        'a"b',
        "a\\b",
        "[x",
        "è",
        "\U0001f600",
        True,
        False,
        None,
        [],
        [day - timedelta(days=400), "x"],
        [7, "zz"],
        {"v": 5},
        ObjectId(),
    ]


def _range_bounds() -> list[Any]:
    day = datetime(2026, 1, 1, tzinfo=UTC)
    return [
        day,
        datetime(1965, 1, 1, tzinfo=UTC),
        datetime(2000, 1, 1, tzinfo=UTC),
        5,
        9.5,
        -1,
        0,
        "",
        "2026-01-01",
        "9",
        "a",
        "\uffff",
    ]


def _kind(bound: Any) -> str:
    return "date" if isinstance(bound, datetime) else "string" if isinstance(bound, str) else "n"


async def _ids(cursor: Any) -> list[str]:
    return [str(doc["_id"]) async for doc in cursor]


async def test_ranges_read_through_a_values_index_and_match_a_full_scan(
    local_stack: LocalStack,
) -> None:
    """``$lt/$lte/$gt/$gte`` on an indexed field read through its values index (our FerretDB
    patch 05), and match exactly what the handler alone matches on every type: MongoDB's
    type bracketing, arrays, missing fields. ``{$and: [filter]}`` is not pushed down."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(local_stack.mongodb_url)
    database = client[f"ranges_{uuid.uuid4().hex[:8]}"]
    docs = database["docs"]
    try:
        if "ferretdbVersion" not in await database.command("buildInfo"):
            pytest.skip("the patches concern the FerretDB the project builds")
        await docs.create_index([("v", ASCENDING)])
        values = _range_values()
        await docs.insert_many([{"_id": f"d{i}", "v": v} for i, v in enumerate(values)])
        await docs.insert_one({"_id": "missing"})
        bounds = _range_bounds()
        filters: list[dict[str, Any]] = [
            {"v": {op: bound}} for bound in bounds for op in ("$lt", "$lte", "$gt", "$gte")
        ]
        filters += [
            {"v": {"$gte": low, "$lt": high}}
            for low, high in itertools.permutations(bounds, 2)
            if _kind(low) == _kind(high)
        ]
        matched = 0
        for filter_ in filters:
            pushed = sorted(await _ids(docs.find(filter_)))
            assert pushed == sorted(await _ids(docs.find({"$and": [filter_]}))), filter_
            matched += len(pushed)
        assert matched > len(filters)  # the comparison is not between empty results
        explained = await database.command(
            {"explain": {"find": "docs", "filter": {"v": {"$lte": bounds[0]}}}}
        )
        assert explained["filterPushdown"] is True
        plan = explained["queryPlanner"]["Plan"]
        assert sum("USING INDEX" in step and "$values" in step for step in plan) == 2  # + arrays
        unindexed = await database.command(
            {"explain": {"find": "docs", "filter": {"w": {"$lte": bounds[0]}}}}
        )
        assert unindexed["filterPushdown"] is False  # left to the handler, as before
    finally:
        await client.drop_database(database.name)
        await client.close()


async def test_a_sort_on_the_ranged_field_is_read_in_index_order(local_stack: LocalStack) -> None:
    """``{due: {$lte: t}}`` sorted by ``due`` with a limit (the scheduler's query) is read in
    the values index's order, without a sort of its own, and returns what the handler's
    in-memory sort returns; not once the field holds an array, which MongoDB sorts by its
    least or greatest element."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(local_stack.mongodb_url)
    database = client[f"rangesort_{uuid.uuid4().hex[:8]}"]
    docs = database["docs"]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    try:
        if "ferretdbVersion" not in await database.command("buildInfo"):
            pytest.skip("the patches concern the FerretDB the project builds")
        await docs.create_index([("due", ASCENDING)])
        # Distinct instants, stored out of order, some claimed; other types in between.
        rows = [
            {"_id": f"s{i}", "due": start + timedelta(minutes=(i * 37) % 500), "claimed": i % 3}
            for i in range(500)
        ]
        rows += [{"_id": f"o{i}", "due": v, "claimed": 0} for i, v in enumerate([5, "x", True])]
        await docs.insert_many(rows)
        await docs.insert_one({"_id": "never", "claimed": 0})

        async def check(expect_pushdown: bool) -> None:
            for direction, limit, upto in itertools.product((1, -1), (1, 7, 100, 0), (0, 250)):
                filter_ = {"due": {"$lte": start + timedelta(minutes=upto)}, "claimed": {"$lt": 2}}
                find = {"filter": filter_, "sort": {"due": direction}, "limit": limit}
                pushed = await _ids(docs.find(filter_, sort=[("due", direction)], limit=limit))
                scanned = docs.find({"$and": [filter_]}, sort=[("due", direction)], limit=limit)
                assert pushed == await _ids(scanned), find
                explained = await database.command({"explain": {"find": "docs", **find}})
                plan = " ".join(explained["queryPlanner"]["Plan"])
                assert explained["sortPushdown"] is expect_pushdown, plan
                assert "$values" in plan
                if expect_pushdown:
                    assert "TEMP B-TREE" not in plan and "MULTI-INDEX" not in plan, plan

        await check(expect_pushdown=True)
        await docs.insert_one(
            {"_id": "array", "due": [start + timedelta(seconds=30), start + timedelta(days=9)]}
        )
        await check(expect_pushdown=False)
    finally:
        await client.drop_database(database.name)
        await client.close()


def test_values_indexes_follow_their_index_and_are_added_to_older_databases(
    tmp_path: Path,
) -> None:
    """A values index is created and dropped with its index, and built at start for a
    database written before patch 05 (simulated by dropping it while the server is down)."""
    from pymongo import MongoClient

    def values_indexes() -> list[str]:
        with closing(sqlite3.connect(tmp_path / "ferretdb" / "sqlite" / "db.sqlite")) as db:
            rows = db.execute("SELECT name FROM sqlite_master WHERE type = 'index'").fetchall()
        return sorted(name.split("_", 2)[-1] for (name,) in rows if name.endswith("$values"))

    with FerretDBServer(tmp_path / "ferretdb") as server:
        with MongoClient[dict[str, Any]](server.url) as client:
            docs = client["db"]["docs"]
            docs.insert_many([{"_id": i, "due": i, "tag": str(i), "a": {"b": i}} for i in range(9)])
            docs.create_index([("due", ASCENDING)])
            docs.create_index([("tag", ASCENDING)], unique=True)
            docs.create_index([("tag", ASCENDING), ("due", ASCENDING)])
            docs.create_index([("a.b", ASCENDING)])
            docs.drop_index("tag_1")
        server.stop()
        assert values_indexes() == ["due_1$values"]
        with closing(sqlite3.connect(tmp_path / "ferretdb" / "sqlite" / "db.sqlite")) as db:
            (name,) = db.execute(
                "SELECT name FROM sqlite_master WHERE name LIKE '%$values'"
            ).fetchone()
            db.execute(f'DROP INDEX "{name}"')
            db.commit()
        assert values_indexes() == []
        server.start()
        server.wait_ready(60)
        with MongoClient[dict[str, Any]](server.url) as client:
            docs = client["db"]["docs"]
            assert [d["_id"] for d in docs.find({"due": {"$gt": 6}}, sort=[("due", 1)])] == [7, 8]
        server.stop()
        assert values_indexes() == ["due_1$values"]


async def test_a_bulk_of_many_matching_updates_completes(local_stack: LocalStack) -> None:
    """More matching update statements in one command than the pool has connections (our
    FerretDB patch 04; it hung before)."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(local_stack.mongodb_url)
    database = client[f"bulk_{uuid.uuid4().hex[:8]}"]
    try:
        await database.docs.insert_many([{"_id": f"p{i}", "n": 0} for i in range(250)])
        updates = [UpdateOne({"_id": f"p{i}"}, {"$inc": {"n": 1}}) for i in range(250)]
        async with asyncio.timeout(60):
            result = await database.docs.bulk_write(updates)
        assert result.modified_count == 250
        assert await database.docs.count_documents({"n": 1}) == 250
    finally:
        await client.drop_database(database.name)
        await client.close()


async def test_kafka_restart_keeps_port_and_messages(local_stack: LocalStack) -> None:
    kafka = local_stack.kafka
    if kafka is None:
        pytest.skip("Kafka is external (KAFKA_BOOTSTRAP_SERVERS is set)")
    bootstrap = local_stack.kafka_bootstrap_servers
    topic = _topic()
    await _produce(bootstrap, topic, b"before")
    old_pid = kafka.pid

    await kafka.stop_async()
    assert old_pid is not None
    assert not _alive(old_pid)
    await kafka.start_async()
    await kafka.wait_ready_async(120.0)

    assert kafka.pid != old_pid
    assert local_stack.kafka_bootstrap_servers == bootstrap
    assert await _consume(bootstrap, topic, 1) == [b"before"]


async def test_publish_survives_a_broker_outage(local_stack: LocalStack) -> None:
    kafka = local_stack.kafka
    if kafka is None:
        pytest.skip("Kafka is external (KAFKA_BOOTSTRAP_SERVERS is set)")
    bootstrap = local_stack.kafka_bootstrap_servers
    topic = _topic()
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, request_timeout_ms=60000
    )
    await producer.start()
    try:
        await producer.send_and_wait(topic, b"first")
        await kafka.kill_async()  # a crash, not a clean shutdown
        pending = asyncio.ensure_future(producer.send_and_wait(topic, b"during outage"))
        await asyncio.sleep(2.0)  # the broker stays down for a while
        assert not pending.done()
        await kafka.start_async()
        await kafka.wait_ready_async(120.0)
        await asyncio.wait_for(pending, 90.0)
    finally:
        await producer.stop()
    assert sorted(await _consume(bootstrap, topic, 2)) == [b"during outage", b"first"]


def test_stop_leaves_no_process(tmp_path: Path) -> None:
    stack = LocalStack(tmp_path / "stack", environ={})
    with stack:
        assert stack.kafka is not None
        assert stack.ferretdb is not None
        pids = [stack.kafka.pid, stack.ferretdb.pid]
        assert all(pid is not None and _alive(pid) for pid in pids)
        assert len(_processes_mentioning(str(tmp_path))) == 2
    assert not [pid for pid in pids if pid is not None and _alive(pid)]
    assert _processes_mentioning(str(tmp_path)) == []
    assert (tmp_path / "stack" / "kafka" / "server.log").stat().st_size > 0


def test_servers_die_with_a_killed_parent(tmp_path: Path) -> None:
    """PR_SET_PDEATHSIG: a SIGKILLed Python parent takes its servers along."""
    script = (
        "import sys, time\n"
        "from rinnovo.devstack import FerretDBServer\n"
        "server = FerretDBServer(sys.argv[1])\n"
        "server.start()\n"
        "server.wait_ready(60)\n"
        "print(server.pid, flush=True)\n"
        "time.sleep(600)\n"
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", script, str(tmp_path / "ferretdb")], stdout=subprocess.PIPE
    )
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        assert _alive(child)
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
    deadline = time.monotonic() + 10
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child)


def test_acknowledged_writes_survive_the_server_being_killed(tmp_path: Path) -> None:
    """SQLite runs with synchronous=normal (deploy/local/ferretdb/main.go): a write the
    server acknowledged is in its log, and a killed process loses none of them."""
    from pymongo import MongoClient

    with FerretDBServer(tmp_path / "ferretdb") as server:
        with MongoClient[dict[str, Any]](server.url) as client:
            items = client["db"]["items"]
            items.insert_many([{"_id": i, "v": 0} for i in range(200)])
            for i in range(200):
                items.update_one({"_id": i}, {"$inc": {"v": i}})
        server.kill()
        server.start()
        server.wait_ready(120)
        with MongoClient[dict[str, Any]](server.url) as client:
            kept = {d["_id"]: d["v"] for d in client["db"]["items"].find()}
        assert kept == {i: i for i in range(200)}


def test_ferretdb_restart_keeps_data_and_port(tmp_path: Path) -> None:
    from pymongo import MongoClient

    with FerretDBServer(tmp_path / "ferretdb") as server:
        url = server.url
        with MongoClient[dict[str, Any]](url) as client:
            client["db"]["c"].insert_one({"_id": 1, "v": "kept"})
        server.restart()
        assert server.url == url
        with MongoClient[dict[str, Any]](url) as client:
            assert client["db"]["c"].find_one({"_id": 1}) == {"_id": 1, "v": "kept"}
