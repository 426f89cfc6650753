"""Convention code use limits on the real servers: concurrent checkouts never pass a limit,
a claim repeated for one order counts once, a release gives one use back; and a code an
operator limits in the catalog is enforced by orders' checkout."""

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from httpx import ASGITransport, AsyncClient
from pymongo import AsyncMongoClient

from rinnovo.orders.adapters.code_uses import CodeUses
from rinnovo.orders.service_layer.ports import UseLimits
from rinnovo.runtime.auth import AuthSettings, issue_token

pytestmark = pytest.mark.integration

ACCEPT = {
    doc: {"accepted": True, "version": "2025-01"}
    for doc in ("general_conditions", "unfair_terms", "privacy")
}
HOLDER = {"name": "Studio Rossi", "email": "amm@rossi.it", "locale": "it"}


async def test_concurrent_claims_never_pass_the_limits(
    mongo: AsyncMongoClient[dict[str, Any]], database_name: Callable[[str], str]
) -> None:
    uses = CodeUses(mongo[database_name("orders")]["convention_code_uses"])
    limits = UseLimits(total=5, per_customer=2)
    # 24 orders at once by 4 customers (the first use of the code among them).
    claims = [("CONV", f"ord-{n}", f"cust.{n % 4}$") for n in range(24)]
    granted = await asyncio.gather(*(uses.claim(c, o, who, limits) for c, o, who in claims))
    assert sum(granted) == 5
    winners = [who for (_, _, who), ok in zip(claims, granted, strict=True) if ok]
    assert max(winners.count(who) for who in set(winners)) <= 2

    first = next(o for (_, o, _), ok in zip(claims, granted, strict=True) if ok)
    first_customer = next(who for (_, o, who) in claims if o == first)
    assert await uses.claim("CONV", first, first_customer, limits)  # retried: counted once
    assert not await uses.claim("CONV", "ord-late", "cust-new", limits)  # still 5 in all
    for _ in range(2):  # released twice: one use back
        await uses.release("CONV", first, first_customer)
    assert await uses.claim("CONV", "ord-late", "cust-new", limits)
    assert not await uses.claim("CONV", "ord-later", "cust-newer", limits)
    # Another code counts apart, and no limit counts nothing against the others.
    assert await uses.claim("OTHER", first, first_customer, UseLimits(None, 1))


async def test_a_limited_code_set_in_the_catalog_is_enforced_at_checkout(stack: Any) -> None:
    token = issue_token(AuthSettings(), "ops", {"admin"})
    catalog = AsyncClient(
        transport=ASGITransport(stack.catalog.app),
        base_url="http://catalog",
        headers={"Authorization": f"Bearer {token}"},
    )
    code = {
        "code": "SOCI-2026",
        "discount_kind": "percent",
        "discount_value": 1000,
        "valid_from": "2025-01-01",
        "valid_to": "2030-12-31",
        "product_ids": ["fe-standard"],
        "applies_to": "first_purchase",
        "max_uses": 2,
        "max_uses_per_customer": 1,
    }
    async with catalog:
        created = await catalog.post("/v1/admin/convention-codes", json=code)
    assert created.status_code == 201, created.text

    async def cart_with_code(customer: str, n: int) -> str:
        async with stack.customer(customer) as me:
            body = {
                "kind": "first_purchase",
                "product_id": "fe-standard",
                "username": f"soci{n}@ex.it",
            }
            cart = await me.post("/v1/carts", json=body)
            assert cart.status_code == 201, cart.text
            cart_id: str = cart.json()["cart_id"]
            choices = {"payment_method": "bank_transfer", "convention_code": "SOCI-2026"}

            async def quoted() -> bool:  # once orders has the code from the catalog's topic
                changed = await me.patch(f"/v1/carts/{cart_id}", json=choices)
                return changed.status_code == 200

            await stack.wait_until(quoted)
        return cart_id

    async def checkout(customer: str, cart_id: str) -> Any:
        async with stack.customer(customer) as me:
            body = {"acceptances": ACCEPT, "holder": HOLDER}
            return await me.post(f"/v1/carts/{cart_id}/checkout", json=body)

    customers = ["ann", "ann", "bob", "carl", "dan"]
    carts = [await cart_with_code(c, n) for n, c in enumerate(customers)]
    answers = await asyncio.gather(*(checkout(c, k) for c, k in zip(customers, carts, strict=True)))
    placed = [c for c, a in zip(customers, answers, strict=True) if a.status_code == 201]
    refused = [a for a in answers if a.status_code != 201]
    assert len(placed) == 2 and len(set(placed)) == 2, [a.text for a in answers]
    assert {(a.status_code, a.json()["errors"][0]["field"]) for a in refused} == {
        (422, "convention_code")
    }
