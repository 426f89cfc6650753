"""An operator's commands against the running system: a poison message found in its
dead-letter topic, read, fixed and replayed once; the outboxes and the consumer groups of
the four services as ``rinnovo`` reports them."""

import json
import socket
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.in_flight import consumed_topics
from tests.e2e.system import System, eventually, read_to_end
from tests.e2e.test_journeys import (
    GB,
    card_of,
    import_service,
    now_of,
    today,
    until_card,
    usage_report,
)
from tests.operator import Ran, rinnovo

pytestmark = pytest.mark.integration

TOPIC = "panel.usage.v1"


def operator_environment(system: System) -> dict[str, str]:
    """The deployment's settings, as the services got them, and a database of the
    operators' own for this test."""
    return {**system.processes.env, "RINNOVO_OPERATIONS_DATABASE": f"ops_{uuid.uuid4().hex[:8]}"}


async def dead_letters(env: dict[str, str], count: int) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    async def listed() -> bool:
        found[:] = (await rinnovo(env, "dlt", "list", TOPIC, "--json")).json()
        return len(found) >= count

    await eventually(listed, what=f"{count} dead letters listed")
    return found


async def test_a_poison_message_is_listed_shown_fixed_and_replayed_once(
    system: System, tmp_path: Path
) -> None:
    customer, service_id = "c-poison", "svc-c-poison"
    expiry = (await today(system) + timedelta(days=300)).isoformat()
    await import_service(system, customer, expiry_date=expiry, storage_gb=2)
    env = operator_environment(system)
    # The panel publishes a usage report orders cannot read: the size as text.
    poison = usage_report(service_id, 0, 1, await now_of(system))
    poison["payload"]["used_bytes"] = "1,7 GB"
    await system.publish(TOPIC, poison, key=service_id)

    [letter] = await dead_letters(env, 1)
    assert letter["reason"] == "schema_violation"
    assert "used_bytes" in letter["error"]
    assert (letter["service"], letter["group"]) == ("orders", system.groups["orders"])
    assert letter["source"] == system.prefix + TOPIC
    assert letter["replayed"] is None
    listed = await rinnovo(env, "dlt", "list")  # every dead-letter topic, as text
    assert f"{TOPIC}.DLT  {letter['position']}" in listed.out
    assert "schema_violation  not replayed" in listed.out

    shown = (await rinnovo(env, "dlt", "show", TOPIC, letter["position"], "--json")).json()
    assert json.loads(shown["payload"]) == poison
    assert shown["headers"]["dlt-original-offset"] == letter["source_position"].split(":")[1]
    text = await rinnovo(env, "dlt", "show", f"{TOPIC}.DLT", letter["position"])
    assert '"used_bytes": "1,7 GB"' in text.out
    missing = await rinnovo(env, "dlt", "show", TOPIC, "0:999")
    assert missing.code == 1

    # A fix that is still not an event is refused, and nothing is sent or recorded.
    still_wrong = tmp_path / "still-wrong.json"
    still_wrong.write_text(json.dumps(poison | {"payload": {"service_id": service_id}}))
    refused = await rinnovo(
        env, "dlt", "replay", TOPIC, "--offset", letter["position"], "--value", str(still_wrong)
    )
    assert refused.code == 1 and "not a valid event" in refused.err
    fixed_event = json.loads(shown["payload"])
    fixed_event["payload"]["used_bytes"] = 17 * GB // 10
    fixed = tmp_path / "fixed.json"
    fixed.write_text(json.dumps(fixed_event))
    replay = ["dlt", "replay", TOPIC, "--offset", letter["position"], "--value", str(fixed)]
    dry = await rinnovo(env, *replay, "--dry-run")
    assert dry.code == 0 and "would send" in dry.out
    assert len(await source_records(system)) == 1  # only the poison so far

    sent = await rinnovo(env, *replay, "--by", "ops-alice")
    assert sent.code == 0, sent
    assert sent.out.startswith(f"replayed {letter['position']} -> {TOPIC} ")
    await until_card(system, customer, service_id, storage_used_bytes=17 * GB // 10)
    assert (await card_of(system, customer, service_id))["storage_used_percent"] == 85.0

    # Never twice: neither that one nor "all" of them again.
    again = await rinnovo(env, "dlt", "replay", TOPIC, "--all")
    assert again.code == 0 and again.out.startswith(f"skipped {letter['position']}")
    assert "ops-alice" in again.out
    records = await source_records(system)
    assert len(records) == 2
    [replayed] = await dead_letters(env, 1)
    assert replayed["replayed"]["status"] == "replayed"
    assert (replayed["replayed"]["by"], replayed["replayed"]["fixed"]) == ("ops-alice", True)
    assert replayed["replayed"]["sent_to"]["topic"] == system.prefix + TOPIC


async def source_records(system: System) -> list[bytes]:
    return await read_to_end(
        system.stack.kafka_bootstrap_servers, system.prefix + TOPIC, **system.kafka_options
    )


async def test_outboxes_and_consumer_groups_as_an_operator_sees_them(system: System) -> None:
    expiry = (await today(system) + timedelta(days=300)).isoformat()
    await import_service(system, "c-ops", expiry_date=expiry)
    await system.settled()
    env = operator_environment(system)

    statuses = {s["service"]: s for s in (await rinnovo(env, "outbox", "status", "--json")).json()}
    assert set(statuses) == {"catalog", "orders", "payments", "notifier"}  # not the portal
    for name, status in statuses.items():
        assert status["database"] == system.databases[name]
        assert (status["pending_documents"], status["pending_events"]) == (0, 0)
        holder = f"{socket.gethostname()}:{system.processes.pid(name)}"
        assert (status["lease"]["holder"], status["lease"]["held"]) == (holder, True)

    groups: list[dict[str, Any]] = []

    async def caught_up() -> bool:
        ran: Ran = await rinnovo(env, "consumers", "--json")
        groups[:] = ran.json()
        return all(g["lag"] == 0 for g in groups)

    await eventually(caught_up, what="every group at the end of its topics")
    by_service = {g["service"]: g for g in groups}
    assert set(by_service) == {"orders", "payments", "notifier"}  # the catalog consumes nothing
    for name, group in by_service.items():
        assert group["group"] == system.groups[name]
        assert group["state"] == "Stable"
        # One consumer per service, with every partition of every topic it consumes.
        consumed = {system.prefix + topic for topic in consumed_topics(name)}
        assert len(group["members"]) == 1
        assert {m["client_id"] for m in group["members"]} == {f"rinnovo-{name}"}
        assigned = {topic for m in group["members"] for topic, _ in m["partitions"]}
        assert assigned == consumed
        assert any(p["committed"] is not None for p in group["partitions"])
