"""Every form is protected against cross-site requests, and bounded."""

import re
from collections.abc import Callable

import httpx
import pytest

from rinnovo.portal.bootstrap import build
from rinnovo.portal.settings import PortalSettings
from rinnovo.portal.testing import FakeApis, csrf_token, order, token_of


def post_routes() -> list[str]:
    """Every POST the portal answers, in development mode (where it has the most)."""
    app = build(PortalSettings(dev_mode=True, demo_data=False)).app
    paths = [path for path, ops in app.openapi()["paths"].items() if "post" in ops]
    return [re.sub(r"\{[^}]+\}", "x1", path) for path in paths]


def test_the_portal_has_forms_to_protect() -> None:
    assert set(post_routes()) >= {
        "/carts",
        "/carts/x1",
        "/carts/x1/checkout",
        "/orders/x1/cancel",
        "/services/x1/automatic-renewal",
        "/sign-out",
        "/dev/sign-in",
    }


@pytest.mark.parametrize("path", post_routes())
@pytest.mark.parametrize("token", ["", "0" * 64], ids=["without", "forged"])
async def test_a_form_without_its_token_is_refused_and_reaches_no_api(
    make_portal: Callable[..., httpx.AsyncClient], apis: FakeApis, path: str, token: str
) -> None:
    async with make_portal(dev_mode=True, demo_data=False) as client:
        client.cookies.set("rinnovo_session", token_of("c1"))
        await client.get("/dev/sign-in")  # this browser now has its CSRF cookie
        apis.requests.clear()
        answer = await client.post(
            path, data={"csrf_token": token, "confirm": "yes", "customer_id": "demo-anna"}
        )
    assert answer.status_code == 403, answer.text
    assert "Questo modulo è scaduto" in answer.text
    assert apis.requests == []


async def test_a_token_of_another_browser_is_refused(
    make_portal: Callable[..., httpx.AsyncClient], apis: FakeApis
) -> None:
    async with make_portal() as theirs, make_portal() as mine:
        theirs.cookies.set("rinnovo_session", token_of("c2"))
        token = await csrf_token(theirs)
        mine.cookies.set("rinnovo_session", token_of("c1"))
        await mine.get("/services")
        apis.requests.clear()
        answer = await mine.post("/orders/o1/cancel", data={"csrf_token": token, "confirm": "yes"})
    assert answer.status_code == 403
    assert apis.requests == []


async def test_a_form_with_its_token_goes_through(
    portal: httpx.AsyncClient, apis: FakeApis
) -> None:
    apis.on("POST", "/v1/orders/o1/cancel", order("o1", status="cancelled"))
    token = await csrf_token(portal)
    answer = await portal.post("/orders/o1/cancel", data={"csrf_token": token, "confirm": "yes"})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/orders?cancelled=o1"
    (sent,) = apis.sent("POST", "/v1/orders/o1/cancel")
    assert sent.content == b'{"confirm":true}'


async def test_a_form_too_large_is_refused_before_it_is_read(
    portal: httpx.AsyncClient, apis: FakeApis
) -> None:
    token = await csrf_token(portal)
    apis.requests.clear()
    answer = await portal.post(
        "/orders/o1/cancel", data={"csrf_token": token, "confirm": "yes", "x": "a" * 70_000}
    )
    assert answer.status_code == 413
    assert apis.requests == []
