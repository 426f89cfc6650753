"""What an integrator found at the edges of the orders API, on the real servers: numbers and
dates out of range, language tags, fields that do not apply to a cart, the terms to accept,
and the automatic-renewal switch on the card."""

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from rinnovo.runtime.bounds import LATEST_DAY

pytestmark = pytest.mark.integration

Reader = Callable[..., Awaitable[list[Any]]]
DOCUMENTS = ("general_conditions", "unfair_terms", "privacy")


def fields_at_fault(answer: Any) -> list[str]:
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    return [e["field"] for e in answer.json()["errors"]]


def import_body(service_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "service_id": service_id,
        "customer_id": "edge",
        "holder": {"name": "Studio Rossi", "email": "rossi@example.it", "locale": "it"},
        "username": f"{service_id}@example.it",
        "product_id": "fe-standard",
        "expiry_date": "2027-03-31",
        "storage_gb": 1,
        **fields,
    }


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("used_bytes", 2**64),
        ("storage_gb", 2**63),
        ("extra_users", 10**30),
        ("expiry_date", "9999-12-31"),
        ("expiry_date", "2200-01-01"),
    ],
)
async def test_an_import_out_of_range_is_refused_naming_the_field(
    stack: Any, field: str, value: object
) -> None:
    # Each answered 500: MongoDB keeps 8-byte integers, dates end with the year 9999.
    async with stack.admin() as ops:
        refused = await ops.post(
            "/v1/admin/services", json=import_body("svc-big", **{field: value})
        )
        assert fields_at_fault(refused) == [field]
        document = (await ops.get("/openapi.json")).json()
    schema = document["components"]["schemas"]["ServiceImport"]["properties"]
    assert schema["used_bytes"]["maximum"] < 2**63
    assert schema["expiry_date"]["formatMaximum"] == LATEST_DAY.isoformat()


async def test_any_language_tag_of_english_is_stored_as_en(
    stack: Any, topic_reader: Reader
) -> None:
    body = import_body("svc-en")
    body["holder"]["locale"] = "EN-gb"
    async with stack.admin() as ops:
        imported = await ops.post("/v1/admin/services", json=body)
        assert imported.status_code == 201, imported.text
        body = import_body("svc-tlh")
        body["holder"]["locale"] = "tlh"  # a language we do not write in
        assert fields_at_fault(await ops.post("/v1/admin/services", json=body)) == ["holder.locale"]
    [event] = [
        e
        for e in await stack.events("orders.service.v1", topic_reader, at_least=1)
        if e["aggregate_id"] == "svc-en"
    ]
    assert event["payload"]["service"]["holder"]["locale"] == "en"


async def test_an_upgrade_cart_refuses_what_does_not_apply_to_it(stack: Any) -> None:
    await stack.import_service("up")
    async with stack.customer("up") as me:
        cart = await me.post("/v1/carts", json={"kind": "upgrade", "service_id": "svc-up"})
        assert cart.status_code == 201, cart.text
        assert set(cart.json()["changeable"]) == {
            "storage_gb",
            "extra_users",
            "nso",
            "payment_method",
        }
        url = f"/v1/carts/{cart.json()['cart_id']}"
        for field, value in (
            ("term_years", 2),
            ("automatic_renewal", True),
            ("convention_code", "ORDINE-COMMERCIALISTI"),
        ):
            # term_years was taken and silently ignored.
            refused = await me.patch(url, json={"storage_gb": 2, field: value})
            assert fields_at_fault(refused) == [field]
        kept = await me.get(url)
        assert kept.json()["components"]["storage_gb"] == 1  # nothing of a refusal is kept
        changed = await me.patch(url, json={"storage_gb": 2, "payment_method": "bank_transfer"})
        assert changed.status_code == 200, changed.text
        document = (await me.get("/openapi.json")).json()
    change = document["components"]["schemas"]["CartChange"]
    assert "upgrade" in change["description"]
    assert "upgrade refuses it" in change["properties"]["term_years"]["description"]


async def test_the_terms_to_accept_are_published_and_a_checkout_uses_them(stack: Any) -> None:
    await stack.import_service("terms")
    async with stack.customer("terms") as me:
        terms = (await me.get("/v1/terms")).json()
        cart = await me.post("/v1/carts", json={"kind": "renewal", "service_id": "svc-terms"})
    assert {d["document"] for d in terms["acceptances"]} == set(DOCUMENTS)
    assert all(d["version"] and d["url"].startswith("https://") for d in terms["acceptances"])
    assert "bank_transfer" in terms["payment_methods"]
    assert set(terms["automatic_renewal_methods"]) == {"card", "sepa_direct_debit"}
    assert cart.json()["terms"] == terms
    async with stack.client("anyone") as anyone:
        anyone.headers.pop("Authorization")
        assert (await anyone.get("/v1/terms")).json() == terms  # public
    acceptances = {
        d["document"]: {"accepted": True, "version": d["version"]} for d in terms["acceptances"]
    }
    url = f"/v1/carts/{cart.json()['cart_id']}"
    async with stack.customer("terms") as me:
        await me.patch(url, json={"payment_method": "bank_transfer"})
        placed = await me.post(f"{url}/checkout", json={"acceptances": acceptances})
    assert placed.status_code == 201, placed.text
    assert {(a["document"], a["version"]) for a in placed.json()["acceptances"]} == {
        (d["document"], d["version"]) for d in terms["acceptances"]
    }


async def test_the_card_carries_the_automatic_renewal_switch(stack: Any) -> None:
    await stack.import_service(
        "auto",
        automatic_renewal={"enabled": True, "term_years": 2, "payment_method": "card"},
    )
    async with stack.customer("auto") as me:
        card = (await me.get("/v1/services/svc-auto")).json()
        assert card["automatic_renewal"] == {
            "enabled": True,
            "term_years": 2,
            "payment_method": "card",
            "switchable": True,
        }
        off = await me.put("/v1/services/svc-auto/automatic-renewal", json={"enabled": False})
    assert off.json()["automatic_renewal"]["enabled"] is False
    assert off.json()["automatic_renewal"]["switchable"] is True
