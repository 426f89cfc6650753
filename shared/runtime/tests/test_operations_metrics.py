"""The metrics operators watch, fed by the runtime's own parts (no server needed): the
outbox's backlog and the age of its oldest event, scheduled work's lateness and lost claims,
and HTTP requests per route."""

import asyncio
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from fastapi import APIRouter
from httpx import ASGITransport, AsyncClient
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from rinnovo.runtime.changes import Schedule, Write
from rinnovo.runtime.events import Record
from rinnovo.runtime.metrics import Metrics
from rinnovo.runtime.observed_claims import ObservedClaims
from rinnovo.runtime.outbox import OUTBOX, PENDING, OutboxRelay, RelayLease
from rinnovo.runtime.service import ServiceRuntime
from rinnovo.runtime.settings import ServiceSettings
from rinnovo.testing.aggregates import MemoryAggregates

NOW = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


def sample(metrics: Metrics, name: str, labels: Mapping[str, str] | None = None) -> float:
    return metrics.registry.get_sample_value(name, dict(labels or {})) or 0.0


class Pending:
    """Documents whose outboxes hold events that occurred at the given times."""

    def __init__(self, *times: list[datetime]) -> None:
        self.docs = [
            {
                "_id": f"a{n}",
                "version": 1,
                PENDING: True,
                OUTBOX: [
                    Record(
                        f"e{n}-{k}", "t", f"a{n}", b"{}", {"ce_time": t.isoformat()}
                    ).to_document()
                    for k, t in enumerate(events)
                ],
            }
            for n, events in enumerate(times)
        ]

    def find(self, *_: Any, **__: Any) -> AsyncIterator[dict[str, Any]]:
        async def found() -> AsyncIterator[dict[str, Any]]:
            for doc in self.docs:
                yield doc

        return found()


class KafkaAway:
    async def publish(self, records: Any) -> None:
        raise ConnectionError("no broker")


async def test_a_relay_pass_reports_the_backlog_and_the_age_of_its_oldest_event() -> None:
    metrics = Metrics()
    outbox = Pending(
        [NOW - timedelta(seconds=30), NOW - timedelta(seconds=20)],
        [NOW - timedelta(seconds=95)],
    )
    relay = OutboxRelay(
        [cast(AsyncCollection[dict[str, Any]], outbox)], KafkaAway(), metrics, clock=lambda: NOW
    )
    with pytest.raises(ConnectionError):
        await relay.relay_once()
    # Kafka away: the pass read every pending document before its send failed.
    assert sample(metrics, "rinnovo_outbox_backlog") == 3
    assert sample(metrics, "rinnovo_outbox_oldest_age_seconds") == 95

    class Sent:
        async def publish(self, records: Any) -> None:
            pass

    class Forgotten(Pending):
        async def bulk_write(self, operations: Any, **_: Any) -> Any:
            return type("Result", (), {"matched_count": len(operations)})()

    both = Forgotten(*[[t] for t in (NOW - timedelta(seconds=5), NOW - timedelta(seconds=95))])
    relay = OutboxRelay(
        [cast(AsyncCollection[dict[str, Any]], both)], Sent(), metrics, clock=lambda: NOW
    )
    assert await relay.relay_once() == 2
    assert sample(metrics, "rinnovo_outbox_oldest_age_seconds") == 95
    relay = OutboxRelay(
        [cast(AsyncCollection[dict[str, Any]], Pending())], Sent(), metrics, clock=lambda: NOW
    )
    await relay.relay_once()
    assert sample(metrics, "rinnovo_outbox_oldest_age_seconds") == 0


async def test_a_replica_without_the_relays_lease_reports_nothing_waiting() -> None:
    class HeldElsewhere:
        async def update_one(self, *_: Any, **__: Any) -> None:
            raise DuplicateKeyError("held")

        async def find_one(self, *_: Any, **__: Any) -> dict[str, Any]:
            return {"until": NOW + timedelta(seconds=5)}

    metrics = Metrics()
    metrics.outbox_backlog.set(7)
    metrics.outbox_oldest_age.set(120)
    lease = RelayLease(cast(AsyncCollection[dict[str, Any]], HeldElsewhere()), "svc", 10)
    outbox = Pending([NOW - timedelta(seconds=95)])
    relay = OutboxRelay(
        [cast(AsyncCollection[dict[str, Any]], outbox)],
        KafkaAway(),
        metrics,
        poll_seconds=0.01,
        lease=lease,
        clock=lambda: NOW,
    )
    task = asyncio.create_task(relay.run())
    try:
        async with asyncio.timeout(5):
            await relay.idle.wait()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert sample(metrics, "rinnovo_outbox_backlog") == 0
    assert sample(metrics, "rinnovo_outbox_oldest_age_seconds") == 0


class Values:
    def encode(self, value: dict[str, Any]) -> dict[str, Any]:
        return dict(value)

    def decode(self, doc: Mapping[str, Any]) -> dict[str, Any]:
        return {"due": doc["due"]}


async def test_claims_measure_lateness_and_count_work_another_replica_took() -> None:
    metrics = Metrics()
    store: MemoryAggregates[dict[str, Any]] = MemoryAggregates(
        Values(), schedule=Schedule(lambda v: v["due"])
    )
    await store.write(
        [
            Write("late", {"due": NOW - timedelta(seconds=90)}),
            Write("later", {"due": NOW + timedelta(hours=1)}),
        ]
    )
    observed = ObservedClaims(store, metrics, "milestones")
    lease = timedelta(minutes=1)
    labels = {"work": "milestones"}

    assert await observed.claim("late", NOW, lease) is not None
    assert sample(metrics, "rinnovo_scheduler_lateness_seconds_count", labels) == 1
    assert sample(metrics, "rinnovo_scheduler_lateness_seconds_sum", labels) == 90
    under_two_minutes = {**labels, "le": "120.0"}
    assert sample(metrics, "rinnovo_scheduler_lateness_seconds_bucket", under_two_minutes) == 1

    assert await observed.claim("late", NOW, lease) is None  # another replica holds it
    assert await observed.claim("later", NOW, lease) is None  # not due: nobody lost it
    assert sample(metrics, "rinnovo_scheduler_claims_lost_total", labels) == 1
    assert await observed.claim_next(NOW, lease) is None
    assert sample(metrics, "rinnovo_scheduler_lateness_seconds_count", labels) == 1


async def test_http_requests_are_counted_and_timed_per_route() -> None:
    runtime = ServiceRuntime("probe", ServiceSettings(dev_mode=True))
    router = APIRouter()

    @router.get("/v1/things/{thing_id}")
    async def thing(thing_id: str) -> dict[str, str]:
        if thing_id == "broken":
            raise RuntimeError("a bug")
        return {"thing_id": thing_id}

    app = runtime.http_app([router], title="probe")
    transport = ASGITransport(app, raise_app_exceptions=False)
    async with AsyncClient(transport=transport, base_url="http://probe") as http:
        for thing_id in ("a", "b", "broken"):
            await http.get(f"/v1/things/{thing_id}")
        assert (await http.get("/health/live")).status_code == 200
        assert (await http.get("/nowhere")).status_code == 404
    metrics = runtime.metrics
    route = {"handler": "/v1/things/{thing_id}", "method": "GET"}
    assert sample(metrics, "http_requests_total", {**route, "status": "2xx"}) == 2
    assert sample(metrics, "http_requests_total", {**route, "status": "5xx"}) == 1
    assert sample(metrics, "http_request_duration_seconds_count", route) == 3
    unknown = {"handler": "none", "method": "GET", "status": "4xx"}
    assert sample(metrics, "http_requests_total", unknown) == 1  # not one series per path
    probes = {"handler": "/health/live", "method": "GET", "status": "2xx"}
    assert sample(metrics, "http_requests_total", probes) == 0
