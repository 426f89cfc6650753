"""Every service bounds request bodies before anything reads them (no token needed to be
refused), and /metrics is not on the API's port outside development mode.

No Kafka or MongoDB is needed: the app is not started and its routes touch nothing.
"""

from collections.abc import AsyncIterator
from typing import Annotated

import httpx
import pytest
from fastapi import APIRouter, Depends, Request
from httpx import ASGITransport, AsyncClient
from pydantic import BaseModel

from rinnovo.runtime.auth import Principal
from rinnovo.runtime.clock import SystemClock
from rinnovo.runtime.metrics import MetricsServer
from rinnovo.runtime.problems import PROBLEM_JSON
from rinnovo.runtime.service import ServiceRuntime
from rinnovo.runtime.settings import MIB, ServiceSettings

CHUNK = 64 * 1024


class Customer(BaseModel):
    name: str
    email: str


def runtime(**settings: object) -> ServiceRuntime:
    return ServiceRuntime("probe", ServiceSettings.model_validate(settings), SystemClock())


def app_of(probe: ServiceRuntime) -> AsyncClient:
    router = APIRouter(prefix="/v1")
    Admin = Annotated[Principal, Depends(probe.auth.admin)]

    @router.post("/customers")
    async def add(customer: Customer, _: Admin) -> Customer:
        return customer

    @router.post("/files")
    async def upload(request: Request) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    probe.accept_larger_bodies("/v1/files", 3 * MIB)
    app = probe.http_app([router], title="probe")
    return AsyncClient(transport=ASGITransport(app), base_url="http://probe")


class Stream:
    """A request body sent in chunks without a Content-Length, counting what was pulled."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.pulled = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while self.pulled < self.total:
            self.pulled += CHUNK
            yield b"x" * CHUNK


async def test_a_streamed_oversized_body_is_refused_unauthenticated_before_it_is_read() -> None:
    body = Stream(total=64 * MIB)
    async with app_of(runtime()) as client:
        answer = await client.post("/v1/customers", content=body.__aiter__())
    assert answer.status_code == 413, answer.text
    assert answer.headers["content-type"] == PROBLEM_JSON
    assert answer.json()["title"] == "Content too large"
    assert answer.json()["detail"] == f"the body may have at most {MIB} bytes"
    assert body.pulled <= MIB + CHUNK  # refused as soon as it passed the limit


async def test_a_declared_oversized_body_is_refused_without_reading_it() -> None:
    body = Stream(total=2 * MIB)
    async with app_of(runtime()) as client:
        request = client.build_request("POST", "/v1/customers", content=body.__aiter__())
        request.headers["Content-Length"] = str(2 * MIB)
        answer = await client.send(request)
    assert answer.status_code == 413
    assert body.pulled == 0


async def test_bodies_within_the_limits_reach_the_routes_whole() -> None:
    async with app_of(runtime()) as client:
        small = await client.post("/v1/customers", json={"name": "Rossi", "email": "r@e.it"})
        assert small.status_code == 401  # read, then the token is checked
        big = await client.post("/v1/files", content=Stream(total=2 * MIB).__aiter__())
        assert big.json() == {"bytes": 2 * MIB}
        too_big = await client.post("/v1/files", content=Stream(total=4 * MIB).__aiter__())
        assert too_big.status_code == 413
    async with app_of(runtime(max_body_bytes=4096)) as client:
        answer = await client.post("/v1/customers", content=b"{" + b" " * 5000 + b"}")
        assert answer.status_code == 413


@pytest.fixture
def deployment_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """What a service outside development mode needs to start at all."""
    monkeypatch.setenv("RINNOVO_AUTH_SECRET", "a-deployment-key-of-more-than-32-bytes")


@pytest.mark.usefixtures("deployment_key")
@pytest.mark.parametrize(("dev_mode", "status"), [(True, 200), (False, 404)])
async def test_metrics_are_on_the_api_port_in_development_only(dev_mode: bool, status: int) -> None:
    async with app_of(runtime(dev_mode=dev_mode)) as client:
        answer = await client.get("/metrics")
    assert answer.status_code == status
    async with app_of(runtime(dev_mode=True, metrics_port=0)) as client:
        assert (await client.get("/metrics")).status_code == 404


@pytest.mark.usefixtures("deployment_key")
def test_metrics_on_a_port_of_their_own() -> None:
    probe = runtime(dev_mode=False)
    server = MetricsServer(probe.metrics.registry, "127.0.0.1", 0)
    try:
        scraped = httpx.get(f"http://127.0.0.1:{server.port}/metrics", timeout=10)
    finally:
        server.close()
    assert scraped.status_code == 200
    assert "rinnovo_outbox_backlog" in scraped.text
