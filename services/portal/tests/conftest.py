"""The portal in process, its APIs played by a fake (``rinnovo.portal.testing``): fast tests
of what the pages do with the answers. The real services are in tests/browser."""

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from rinnovo.portal.bootstrap import build
from rinnovo.portal.settings import PortalSettings
from rinnovo.portal.testing import PRODUCT, SECRET, TERMS, FakeApis, token_of


@pytest.fixture
def apis() -> FakeApis:
    fake = FakeApis()
    fake.on("GET", "/v1/catalog/products", [PRODUCT])
    fake.on("GET", "/v1/terms", TERMS)
    fake.on(
        "GET",
        "/v1/payment-methods",
        [
            {"name": "bank_transfer", "usual_registration_days": 2},
            {"name": "card", "usual_registration_days": 0},
        ],
    )
    return fake


@pytest.fixture
def make_portal(
    apis: FakeApis, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., httpx.AsyncClient]:
    """A client of a portal built with the given settings, its APIs played by ``apis``."""
    monkeypatch.setenv("RINNOVO_AUTH_SECRET", SECRET)

    def make(*, dev_mode: bool = False, **settings: Any) -> httpx.AsyncClient:
        monkeypatch.setenv("RINNOVO_DEV_MODE", str(dev_mode).lower())
        built = build(PortalSettings(**settings), transport=httpx.MockTransport(apis.handle))
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(built.app), base_url="https://portal.test"
        )

    return make


@pytest.fixture
async def portal(make_portal: Callable[..., httpx.AsyncClient]) -> AsyncIterator[httpx.AsyncClient]:
    """The production portal, with customer c1 signed in (the identity provider's cookie)."""
    async with make_portal() as client:
        client.cookies.set("rinnovo_session", token_of("c1"))
        yield client
