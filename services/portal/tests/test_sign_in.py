"""Signing in: the platform's token in a cookie, verified as the APIs verify it; the
development sign-in page exists only in development mode."""

from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest
from fastapi.security import HTTPAuthorizationCredentials

from rinnovo.portal.testing import SECRET, FakeApis, card, csrf_token
from rinnovo.runtime.auth import Auth, AuthSettings, issue_token
from rinnovo.runtime.safety import InsecureSetting


async def test_without_a_token_the_customer_is_asked_to_sign_in(
    make_portal: Callable[..., httpx.AsyncClient], apis: FakeApis
) -> None:
    async with make_portal() as client:
        answer = await client.get("/services")
    assert answer.status_code == 401
    assert answer.headers["content-type"].startswith("text/html")
    assert "Accedi all'Area Clienti" in answer.text
    assert apis.requests == []


async def test_the_identity_providers_sign_in_page_is_where_customers_are_sent(
    make_portal: Callable[..., httpx.AsyncClient],
) -> None:
    async with make_portal(signin_url="https://id.example.it/login") as client:
        answer = await client.get("/orders")
    assert answer.status_code == 303
    assert answer.headers["location"] == (
        "https://id.example.it/login?next=https%3A%2F%2Fportal.test%2Forders"
    )


@pytest.mark.parametrize(
    "token",
    [
        issue_token(
            AuthSettings(secret="another-secret-altogether-0123456789"), "c1", {"customer"}
        ),
        issue_token(AuthSettings(secret=SECRET), "c1", {"customer"}, ttl=timedelta(seconds=-5)),
        issue_token(AuthSettings(secret=SECRET), "ops", {"admin"}),
        "not-a-token",
    ],
    ids=["forged", "expired", "not-a-customer", "garbage"],
)
async def test_a_token_that_is_not_a_valid_customer_token_is_refused(
    make_portal: Callable[..., httpx.AsyncClient], apis: FakeApis, token: str
) -> None:
    async with make_portal() as client:
        client.cookies.set("rinnovo_session", token)
        answer = await client.get("/services")
    assert answer.status_code == 401
    assert apis.requests == []


async def test_the_customers_own_token_reaches_the_apis(
    portal: httpx.AsyncClient, apis: FakeApis
) -> None:
    apis.on("GET", "/v1/services", [card()])
    answer = await portal.get("/services")
    assert answer.status_code == 200
    (sent,) = apis.sent("GET", "/v1/services")
    assert sent.headers["authorization"] == f"Bearer {portal.cookies['rinnovo_session']}"


def test_outside_development_mode_the_portal_refuses_to_start_with_the_development_secret(
    make_portal: Callable[..., httpx.AsyncClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A token signed with the public default secret could sign anybody in: the portal, like
    every service, does not start with it."""
    monkeypatch.delenv("RINNOVO_AUTH_SECRET")
    with pytest.raises(InsecureSetting, match="RINNOVO_AUTH_SECRET"):
        make_portal()


async def test_the_development_sign_in_page_does_not_exist_in_production(
    portal: httpx.AsyncClient,
) -> None:
    signed_in = portal.cookies["rinnovo_session"]
    assert (await portal.get("/dev/sign-in")).status_code == 404
    token = await csrf_token(portal)
    answer = await portal.post("/dev/sign-in", data={"csrf_token": token, "customer_id": "c2"})
    assert answer.status_code == 404
    assert portal.cookies["rinnovo_session"] == signed_in


async def test_in_development_mode_a_demo_customer_signs_in_with_a_minted_token(
    make_portal: Callable[..., httpx.AsyncClient], apis: FakeApis
) -> None:
    apis.on("GET", "/v1/services", [card()])
    async with make_portal(dev_mode=True, demo_data=False) as client:
        page = await client.get("/services")
        assert page.status_code == 303
        assert page.headers["location"] == "/dev/sign-in?next=%2Fservices"
        listed = await client.get("/dev/sign-in?next=/orders")
        assert "Anna Bianchi" in listed.text and "Marco Rossi" in listed.text
        token = await csrf_token(client, "/dev/sign-in")
        signed = await client.post(
            "/dev/sign-in",
            data={"csrf_token": token, "customer_id": "demo-anna", "next": "https://evil.example"},
        )
        assert signed.status_code == 303
        assert signed.headers["location"] == "/services"  # never a way off the site
        cookie = signed.headers["set-cookie"]
        assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=lax" in cookie
        assert (await client.get("/services")).status_code == 200
    (sent,) = apis.sent("GET", "/v1/services")
    scheme, token = sent.headers["authorization"].split(" ", 1)
    # The minted token is one the APIs accept, for the customer chosen.
    principal = await Auth(AuthSettings(secret=SECRET)).verify(
        HTTPAuthorizationCredentials(scheme=scheme, credentials=token)
    )
    assert principal.subject == "demo-anna"
    assert principal.roles == {"customer"}


async def test_only_demo_customers_can_be_chosen(
    make_portal: Callable[..., httpx.AsyncClient],
) -> None:
    async with make_portal(dev_mode=True, demo_data=False) as client:
        token = await csrf_token(client, "/dev/sign-in")
        answer = await client.post("/dev/sign-in", data={"csrf_token": token, "customer_id": "c1"})
    assert answer.status_code == 200
    assert "rinnovo_session" not in answer.headers.get("set-cookie", "")
