"""Webhooks on the real servers: an endpoint registered through the admin API, a real HTTP
receiver on 127.0.0.1 that fails first and then accepts, and signatures checked here by an
independent implementation of the documented recipe."""

import asyncio
import hashlib
import hmac
import json
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import uvicorn
from aiokafka import AIOKafkaProducer
from httpx import ASGITransport, AsyncClient
from pymongo import AsyncMongoClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from rinnovo.contracts.topics import PAYMENTS_PAYMENT
from rinnovo.notifier.bootstrap import NotifierSettings, build
from rinnovo.notifier.domain.identity import notification_id
from rinnovo.runtime.auth import AuthSettings, issue_token
from rinnovo.runtime.clock import SystemClock
from rinnovo.runtime.settings import InfraSettings
from rinnovo.testing.notifier_samples import samples

pytestmark = pytest.mark.integration

Wait = Callable[..., Awaitable[None]]
SECRET = "whsec-0123456789abcdef0123456789"


@dataclass
class Receiver:
    """An integrator's endpoint: answers with the next scripted status, keeps each request."""

    statuses: list[int]
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    port: int = 0

    async def hook(self, request: Request) -> Response:
        self.requests.append((dict(request.headers), await request.body()))
        status = self.statuses.pop(0) if self.statuses else 200
        return Response(status_code=status)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/rinnovo"


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    hooks = Receiver(statuses=[503, 200])
    app = Starlette(routes=[Route("/hooks/rinnovo", hooks.hook, methods=["POST"])])
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    hooks.port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False, lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(10):
            while not server.started:
                await asyncio.sleep(0.02)
        yield hooks
    finally:
        server.should_exit = True
        await task
        sock.close()


def independent_check(headers: dict[str, str], body: bytes, secret: str) -> bool:
    """The README's recipe, written again from scratch."""
    timestamp = headers["x-rinnovo-timestamp"]
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    given = headers["x-rinnovo-signature"].removeprefix("sha256=")
    fresh = abs(time.time() - int(timestamp)) < 300
    return fresh and hmac.compare_digest(expected.hexdigest(), given)


def admin(app: Any) -> AsyncClient:
    token = issue_token(AuthSettings(), "ops", {"admin"})
    return AsyncClient(
        transport=ASGITransport(app),
        base_url="http://notifier",
        headers={"Authorization": f"Bearer {token}"},
    )


async def test_a_signed_webhook_is_retried_until_accepted_and_then_never_again(
    infra: InfraSettings,
    database_name: Callable[[str], str],
    receiver: Receiver,
    wait_until: Wait,
    mongo: AsyncMongoClient[dict[str, Any]],
) -> None:
    built = build(
        NotifierSettings(
            infra=infra,
            database=database_name("notifier"),
            channels="webhook",
            webhook_allow_loopback=True,  # the receiver runs here; development mode only
            retry_initial_seconds=0.2,
            retry_max_seconds=0.5,
            delivery_poll_seconds=0.1,
            outbox_poll_seconds=0.05,
        ),
        clock=SystemClock(),
    )
    confirmed = next(s.event for s in samples("en") if s.name == "order_confirmed-bank_transfer")
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap_servers)
    async with built.runtime.running(), admin(built.app) as ops:
        refused = await ops.post(
            "/v1/admin/webhooks", json={"url": "http://crm.example.it/x", "events": ["*"]}
        )
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["field"] == "url"
        registered = await ops.post(
            "/v1/admin/webhooks",
            json={"url": receiver.url, "events": ["order_confirmed"], "secret": SECRET},
        )
        assert registered.status_code == 201, registered.text
        endpoint_id = registered.json()["endpoint_id"]
        assert "secret" not in (await ops.get("/v1/admin/webhooks")).json()[0]
        stored = await mongo[database_name("notifier")]["webhook_endpoints"].find_one()
        assert stored is not None and SECRET not in str(stored)  # sealed at rest

        await producer.start()
        try:
            await producer.send_and_wait(
                infra.kafka_topic_prefix + PAYMENTS_PAYMENT.name,
                confirmed.model_dump_json().encode(),
                key=confirmed.aggregate_id.encode(),
            )
        finally:
            await producer.stop()
        nid = notification_id(str(confirmed.event_id), "webhook", "order_confirmed", endpoint_id)

        async def delivered() -> bool:
            found = await ops.get(f"/v1/admin/notifications/{nid}")
            return found.status_code == 200 and found.json()["status"] == "sent"

        await wait_until(delivered)
        await asyncio.sleep(0.8)  # longer than the back-off: room for another request
        record = (await ops.get(f"/v1/admin/notifications/{nid}")).json()
        by_endpoint = (
            await ops.get("/v1/admin/notifications", params={"endpoint_id": endpoint_id})
        ).json()
        removed = await ops.delete(f"/v1/admin/webhooks/{endpoint_id}")
        assert removed.status_code == 204
        assert (await ops.get("/v1/admin/webhooks")).json()[0]["active"] is False

    assert len(receiver.requests) == 2  # failed once, accepted once, then left alone
    assert [r["outcome"] for r in record["history"]] == ["retry", "sent"]
    assert [r["status_code"] for r in record["history"]] == [503, 200]
    assert (record["attempts"], record["channel"], record["audience"]) == (
        2,
        "webhook",
        "integrator",
    )
    assert [n["notification_id"] for n in by_endpoint] == [nid]
    bodies = {body for _, body in receiver.requests}
    assert len(bodies) == 1  # every attempt sends the same body
    for attempt, (headers, body) in enumerate(receiver.requests, start=1):
        assert independent_check(headers, body, SECRET)
        assert not independent_check(headers, body, "not-the-secret-at-all")
        assert headers["x-rinnovo-delivery"] == nid
        assert headers["x-rinnovo-event"] == "order_confirmed"
        assert headers["x-rinnovo-attempt"] == str(attempt)
    document = json.loads(receiver.requests[0][1])
    assert document["type"] == "order_confirmed"
    assert document["cause"]["event_id"] == str(confirmed.event_id)
    assert document["data"]["instructions"]["iban"] == "IT60X0542811101000000987654"
    assert document["locale"] == "en"
