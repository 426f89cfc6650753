"""Faults in the middle of a batch of renewals: every renewal completes once, no e-mail is
sent twice, no event is missing; then a replay of everything from the start changes nothing.

Each fault is checked to have struck mid-batch (some, not all, of the work done at that moment),
so a test can't pass by being too slow to hurt anything.
"""

import asyncio
import contextlib
import json
import os
from datetime import datetime
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from pymongo import AsyncMongoClient

from rinnovo.runtime.clock import rome_date
from tests.e2e.batch import Account, RenewalBatch
from tests.e2e.system import System

pytestmark = [pytest.mark.integration, pytest.mark.timeout(1200)]

BATCH = int(os.environ.get("RINNOVO_E2E_BATCH", "200"))
"""The issue's figure; smaller only to debug the tests themselves."""


async def started_batch(system: System) -> tuple[RenewalBatch, "asyncio.Task[Any]"]:
    async with system.admin("orders") as admin:
        now = datetime.fromisoformat((await admin.get("/v1/admin/clock")).json()["now"])
    today = rome_date(now)
    batch = RenewalBatch(system, BATCH)
    await batch.prepare(today)
    return batch, asyncio.create_task(batch.import_statement())


def mid_batch(progress: int) -> None:
    assert 0 < progress < BATCH, f"the fault struck at {progress}/{BATCH}: not mid-batch"


async def crash(system: System, name: str) -> None:
    """kill -9, then start it again as an orchestrator would."""
    system.processes.kill(name)
    system.processes.start(name)
    await asyncio.to_thread(system.processes.wait_ready, name, 180)


def report(what: str, account: Account) -> None:
    print(
        f"{what}: {account.redelivered_records} records redelivered, "
        f"{account.resent_mails} e-mails resent"
    )


async def test_each_service_killed_mid_batch_then_a_full_replay_changes_nothing(
    system: System,
) -> None:
    batch, statement = await started_batch(system)

    # payments, in the middle of the statement: the import dies with it; the operator imports
    # the same file again, and each credit is decided once.
    mid_batch(await batch.wait_for(batch.registered, BATCH // 10))
    await crash(system, "payments")
    with contextlib.suppress(Exception):
        await statement
    again = asyncio.create_task(batch.import_statement())

    # The notifier goes on sending while orders and the catalog restart, and may finish in
    # that time: it is watched from now on, and killed when half the e-mails are out. The
    # inbox is counted in this process, often enough to strike inside a sub-second burst.
    async def notifier_mid_batch() -> None:
        mid_batch(await batch.wait_for(batch.mails_done, BATCH // 2, every=0.02))
        await crash(system, "notifier")

    mid_batch(await batch.wait_for(batch.renewed, BATCH * 3 // 10))
    notifier = asyncio.create_task(notifier_mid_batch())
    await crash(system, "orders")
    await crash(system, "catalog")
    await notifier
    imported = await again
    # A credit the crash left half-done is finished now, not taken for a second payment.
    assert imported["reviews_opened"] == 0

    await batch.done()
    account = await batch.account()
    report("kill -9 of each service", account)
    assert account.resent_mails <= 1  # only the notifier's own crash could resend one

    await replay_everything_from_the_start(system, batch)


async def test_kafka_and_the_database_restarted_mid_batch(system: System) -> None:
    batch, statement = await started_batch(system)
    kafka, database = system.stack.kafka, system.stack.ferretdb
    assert kafka is not None and database is not None, "needs the local servers"

    mid_batch(await batch.wait_for(batch.registered, BATCH * 3 // 20))
    await asyncio.to_thread(kafka.stop)
    await asyncio.sleep(3)  # the services carry on writing; nothing can be published
    await asyncio.to_thread(kafka.start)
    await asyncio.to_thread(kafka.wait_ready, 120)

    # Orders renews what piled up while Kafka was away in one or two batches, so the
    # database goes away while e-mails, the slowest stage, are still being sent.
    mid_batch(await batch.wait_for(batch.mails_done, BATCH // 5, every=0.02))
    await asyncio.to_thread(database.stop)
    await asyncio.sleep(3)
    await asyncio.to_thread(database.start)
    await asyncio.to_thread(database.wait_ready, 120)
    [imported] = await asyncio.gather(statement, return_exceptions=True)
    if isinstance(imported, BaseException):  # the database went away under the request
        assert (await batch.import_statement())["reviews_opened"] == 0

    await batch.done()
    account = await batch.account()
    report("Kafka and FerretDB restarted", account)
    assert account.resent_mails == 0


# ---- the replay ----


async def replay_everything_from_the_start(system: System, batch: RenewalBatch) -> None:
    """Stop the services, move every consumer group back to the earliest offset, start them:
    they read everything again, and nothing changes, nothing is sent, nothing is published."""
    await asyncio.to_thread(system.processes.stop_all)
    before = await snapshot(system)
    mails_before = len(system.smtp.inbox.messages)
    bootstrap = system.stack.kafka_bootstrap_servers
    consumers = {name: system.groups[name] for name in ("orders", "payments", "notifier")}
    for group in consumers.values():  # the catalog consumes nothing
        await reset_to_earliest(bootstrap, group)

    system.processes.start_all()
    await asyncio.to_thread(system.processes.wait_ready, None, 180)

    await system.settled()
    assert len(system.smtp.inbox.messages) == mails_before
    after = await snapshot(system)
    assert after["topics"] == before["topics"], "the replay published something"
    for name in ("orders", "payments", "notifier"):
        assert after[name] == before[name], f"the replay changed {name}'s data"
    await batch.account()  # and the account still holds


async def snapshot(system: System) -> dict[str, Any]:
    """The services' data (but for the relay's lease, which is about who relays, not what)
    and how many records each topic holds."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(system.stack.mongodb_url)
    state: dict[str, Any] = {}
    try:
        for name, database in system.databases.items():
            db = client[database]
            collections = sorted(await db.list_collection_names())
            state[name] = {
                c: sorted([json.dumps(d, sort_keys=True, default=str) async for d in db[c].find()])
                for c in collections
                if c != "outbox_relay_leases"
            }
    finally:
        await client.close()
    topics: dict[str, int] = {}
    for topic in ("orders.order.v1", "orders.service.v1", "payments.payment.v1"):
        topics[topic] = len(await system.events(topic))
    topics["notifier.notification.v1"] = len(await system.events("notifier.notification.v1"))
    state["topics"] = topics
    return state


async def reset_to_earliest(bootstrap: str, group: str) -> None:
    """What ``kafka-consumer-groups --reset-offsets --to-earliest`` does, for one group."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        committed = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    partitions = sorted(committed)
    assert partitions, f"group {group} has committed nothing"
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        consumer.assign(partitions)
        earliest = await consumer.beginning_offsets(partitions)
        await consumer.commit(dict(earliest.items()))
    finally:
        await consumer.stop()
