"""The system scaled out on a three-broker Kafka cluster, disturbed the way a cluster is.

Two replicas each of orders, payments and notifier (one of catalog) run a batch of renewals
paid by four bank statements, one imported at each stage, so every stage has work in flight:

1. the broker leading a partition of the payments topic is SIGKILLed, and the batch goes on
   with two brokers (replication 3, ``min.insync.replicas=2``); then it comes back;
2. every replica is restarted one at a time (SIGTERM, start, ready), as a rollout does;
3. orders is scaled from 2 replicas to 3.

Meanwhile services already past their expiry are imported, so the schedulers of the orders
replicas (the ones restarted, the one added) announce milestones throughout. At the end,
once every outbox is empty and every consumer group at the end of its topics, the exact
account: every renewal once, every milestone once, every e-mail once, no event on any topic
that is not accounted for, nothing dead-lettered.
"""

import asyncio
import contextlib
import functools
import os
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from rinnovo.contracts.topics import TOPICS
from rinnovo.devstack.cluster import KafkaCluster
from rinnovo.runtime.clock import rome_date
from tests.cluster.expiries import ExpiredServices
from tests.e2e.batch import RenewalBatch
from tests.e2e.system import System, eventually, read_to_end

pytestmark = [pytest.mark.integration, pytest.mark.timeout(3600)]

BATCH = int(os.environ.get("RINNOVO_CLUSTER_BATCH", "200"))
PARTS = 4
"""Statements: one before the broker dies, one while it is dead, one during the rolling
restart, one after the scale-out."""


def tolerant(progress: Callable[[], Awaitable[int]]) -> Callable[[], Awaitable[int]]:
    """A progress reading that answers 0 while the cluster elects new leaders."""

    @functools.wraps(progress)
    async def reading() -> int:
        try:
            return await progress()
        except (KafkaError, TimeoutError):
            return 0

    return reading


async def test_a_batch_survives_a_dead_leader_a_rolling_restart_and_a_scale_out(
    system: System,
) -> None:
    started = time.monotonic()
    cluster = system.stack.cluster
    assert cluster is not None
    processes = system.processes
    async with system.admin("orders") as admin:
        now = datetime.fromisoformat((await admin.get("/v1/admin/clock")).json()["now"])
    batch = RenewalBatch(system, BATCH)
    await batch.prepare(rome_date(now))
    expiries = ExpiredServices(system, rome_date(now))
    await expiries.add(10)
    registered, renewed = tolerant(batch.registered), tolerant(batch.renewed)
    statements: list[asyncio.Task[Any]] = []

    def pay(part: int) -> None:
        statements.append(asyncio.create_task(batch.import_statement(part, PARTS)))

    # 1. The leader of a partition dies mid-batch; the batch goes on on two brokers.
    pay(0)
    at = await batch.wait_for(registered, 5)
    assert at < BATCH
    topic = system.prefix + "payments.payment.v1"
    leader = await asyncio.to_thread(leader_of, cluster, topic)
    await asyncio.to_thread(cluster.kill, leader)

    async def led_by_another() -> bool:
        return await asyncio.to_thread(leader_of, cluster, topic) not in (leader, -1)

    await eventually(led_by_another, timeout=120, what=f"a new leader of {topic}")
    pay(1)
    await expiries.add(10)
    await batch.wait_for(renewed, BATCH // PARTS + 5)
    await asyncio.to_thread(cluster.nodes[leader].start)
    await asyncio.to_thread(cluster.nodes[leader].wait_ready, 180)
    await eventually(
        lambda: asyncio.to_thread(fully_replicated, cluster, system.prefix),
        timeout=300,
        what="every partition back to 3 in-sync replicas",
    )

    # 2. A rolling restart of every replica, one at a time, with a statement in flight.
    pay(2)
    restarted = 0
    for name in list(processes.service_of):
        assert await renewed() < BATCH, "the restarts must strike mid-batch"
        await asyncio.to_thread(processes.stop, name)
        processes.start(name)
        await asyncio.to_thread(processes.wait_ready, name, 180)
        restarted += 1
        await expiries.add(2)

    # 3. Orders scaled out from 2 replicas to 3, with the last statement after it.
    assert await renewed() < BATCH
    await asyncio.to_thread(processes.add_replica, "orders", 180)
    assert len(processes.replicas("orders")) == 3
    # Each replica has one consumer for all the topics it reads, in the orders group.
    members = 3

    async def joined() -> bool:
        return await group_members(system, system.groups["orders"]) == members

    await eventually(joined, timeout=180, what="the third orders replica in the group")
    pay(3)
    await expiries.add(10)

    # A statement whose request died with a payments replica is imported again: each
    # credit is decided once.
    for part, statement in enumerate(statements):
        with contextlib.suppress(Exception):
            await statement
        if not statement.done() or statement.exception() is not None:
            assert (await batch.import_statement(part, PARTS))["reviews_opened"] == 0

    await batch.done()
    await eventually(
        lambda: expiries_done(expiries), timeout=600, what="every expiry announced and told"
    )
    await system.settled()
    account = await batch.account(shared=True)
    milestones = await expiries.account()
    topics = await everything_accounted(system, batch, expiries)
    elapsed = time.monotonic() - started
    print(
        f"\nscale-out account: {BATCH} renewals and {milestones} expiry milestones, each once; "
        f"1 broker SIGKILLed (node {leader}, leader of {topic}), "
        f"{restarted} replicas restarted one at a time, orders scaled 2 -> 3; "
        f"{account.redelivered_records} records redelivered, {account.resent_mails} e-mails "
        f"resent; {elapsed:.0f} s\n"
        + "\n".join(f"  {topic}: {count} events" for topic, count in topics.items())
    )
    # A notifier stopped after the SMTP server accepted an e-mail but before recording it
    # sends it again, with the same Message-ID (the reader sees one): at most one per stop.
    assert account.resent_mails <= len(processes.replicas("notifier"))


async def group_members(system: System, group: str) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=system.stack.kafka_bootstrap_servers)
    await admin.start()
    try:
        [response] = await admin.describe_consumer_groups([group])
    finally:
        await admin.close()
    [described] = response.to_object()["groups"]
    return len(described["members"])


def leader_of(cluster: KafkaCluster, topic: str) -> int:
    states = cluster.partitions([topic])
    return states[(topic, 0)].leader


def fully_replicated(cluster: KafkaCluster, prefix: str) -> bool:
    topics = [prefix + name for name in TOPICS] + [prefix + t.dead_letter for t in TOPICS.values()]
    try:
        states = cluster.partitions(topics)
    except Exception:
        return False
    return all(len(state.in_sync) == cluster.shape.replication for state in states.values())


async def expiries_done(expiries: ExpiredServices) -> bool:
    try:
        announced = await expiries.expired()
    except KafkaError:
        return False
    return announced >= len(expiries.imported) and expiries.mails() >= len(expiries.imported)


async def everything_accounted(
    system: System, batch: RenewalBatch, expiries: ExpiredServices
) -> dict[str, int]:
    """Every event on every topic is the batch's or an expiry's, or the seed catalog's, once
    per fact; no dead letters. Returns the records per topic."""
    counts: dict[str, int] = {}
    for topic in ("orders.order.v1", "orders.service.v1", "payments.payment.v1"):
        events = await system.events(topic)
        strays = [e for e in events if not (batch.owns(e) or expiries.owns(e))]
        assert strays == [], f"{topic}: events of nobody's: {strays[:3]}"
        counts[topic] = len(events)
    notifications = await system.events("notifier.notification.v1")
    assert all(batch.owns(e) or expiries.owns(e) for e in notifications)
    counts["notifier.notification.v1"] = len(notifications)
    for topic in ("catalog.product.v1", "catalog.convention-code.v1"):
        events = await system.events(topic)
        versions = Counter(
            (e["aggregate_id"], e["aggregate_version"])
            for e in {e["event_id"]: e for e in events}.values()
        )
        assert all(n == 1 for n in versions.values()), f"{topic}: a snapshot published twice"
        counts[topic] = len(events)
    counts["panel.usage.v1"] = len(await system.events("panel.usage.v1"))
    assert counts["panel.usage.v1"] == 0
    bootstrap = system.stack.kafka_bootstrap_servers
    for spec in TOPICS.values():
        dead = await read_to_end(bootstrap, system.prefix + spec.dead_letter)
        assert dead == [], f"{spec.dead_letter}: {len(dead)} dead letters"
    return counts
