"""The catalog's admin and public API on the real Kafka and MongoDB-wire server."""

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from httpx import ASGITransport, AsyncClient
from pymongo import AsyncMongoClient

from rinnovo.catalog.bootstrap import CatalogSettings, build
from rinnovo.runtime.auth import AuthSettings, issue_token
from rinnovo.runtime.clock import FixedClock
from rinnovo.runtime.settings import InfraSettings

pytestmark = pytest.mark.integration

Mongo = AsyncMongoClient[dict[str, Any]]
NOW = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)
TODAY = date(2026, 3, 10)


def bearer(subject: str, *roles: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(AuthSettings(), subject, set(roles))}"}


ALICE = bearer("alice", "admin")
BOB = bearer("bob", "admin")


@dataclass
class Catalog:
    http: AsyncClient
    clock: FixedClock
    database: str


@pytest.fixture
async def catalog(
    infra: InfraSettings,
    database_name: Callable[[str], str],
    mongo: Mongo,
    wait_until: Callable[..., Awaitable[None]],
) -> AsyncIterator[Catalog]:
    clock = FixedClock(NOW)
    database = database_name("catalog")
    built = build(CatalogSettings(infra=infra, database=database), clock=clock)
    async with built.runtime.running():
        http = AsyncClient(transport=ASGITransport(built.app), base_url="http://catalog")
        running = Catalog(http, clock, database)
        yield running
        await wait_until(lambda: outbox_empty(mongo, database))


async def outbox_empty(mongo: Mongo, database: str) -> bool:
    db = mongo[database]
    pending = [
        await db[name].count_documents({"outbox_pending": True})
        for name in ("products", "convention_codes")
    ]
    return sum(pending) == 0


def a_product(**changes: Any) -> dict[str, Any]:
    return {
        "product_id": "fe-start",
        "name": "Fatturazione Elettronica Start",
        "promotional": False,
        "allowed_terms_years": [1, 2, 3],
        "options": [
            {
                "option_id": "storage",
                "kind": "storage",
                "name": "Spazio",
                "unit": "GB",
                "step": 5,
                "included": 5,
                "max_quantity": 50,
            }
        ],
        "price_versions": [
            {
                "version": 1,
                "effective_from": "2026-03-10",
                "base_yearly_cents": 1900,
                "option_unit_yearly_cents": {"storage": 900},
            }
        ],
        "vat": {"rate_basis_points": 2200, "rounding": "half_up"},
        "policy": {
            "expiry_warning_days": 90,
            "storage_warning_percent": 80,
            "reactivation_window_days": 60,
            "reminder_days_before_expiry": [90, 30, 7],
            "window_closing_warning_days": 7,
            "auto_renewal_lead_days": 30,
            "auto_renewal_retry_days": [1, 3, 7],
            "unpaid_order_timeout_days": 30,
        },
        **changes,
    }


def product_changes(product: dict[str, Any], **changes: Any) -> dict[str, Any]:
    body = {k: v for k, v in product.items() if k not in {"product_id", "price_versions"}}
    return {**body, **changes}


def a_code(**changes: Any) -> dict[str, Any]:
    return {
        "code": "primavera26",
        "description": "Primavera 2026",
        "discount_kind": "fixed_cents",
        "discount_value": 500,
        "valid_from": "2026-03-01",
        "valid_to": "2026-05-31",
        "product_ids": ["fe-standard", "fe-promo"],
        "terms_years": [1],
        "applies_to": "first_purchase",
        **changes,
    }


def code_changes(code: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**{k: v for k, v in code.items() if k not in {"code", "revoked"}}, **changes}


async def test_an_operator_creates_and_changes_a_product_and_each_change_is_recorded(
    catalog: Catalog,
) -> None:
    http = catalog.http
    created = await http.post("/v1/admin/products", json=a_product(), headers=ALICE)
    assert created.status_code == 201, created.text
    assert created.headers["location"] == "/v1/admin/products/fe-start"
    assert created.headers["etag"] == '"1"'
    assert created.json()["changed_by"] == "alice"
    assert (await http.post("/v1/admin/products", json=a_product(), headers=BOB)).status_code == 409

    public = (await http.get("/v1/products/fe-start")).json()
    assert public == created.json()["product"]

    renamed = await http.put(
        "/v1/admin/products/fe-start",
        json=product_changes(public, name="FE Start", allowed_terms_years=[1, 2, 3, 5]),
        headers={**BOB, "If-Match": '"1"'},
    )
    assert renamed.status_code == 200, renamed.text
    assert renamed.headers["etag"] == '"2"'
    stale = await http.put(
        "/v1/admin/products/fe-start",
        json=product_changes(public, name="Someone else's edit"),
        headers={**ALICE, "If-Match": '"1"'},
    )
    assert stale.status_code == 412

    catalog.clock.advance(timedelta(hours=2))
    policy = {**public["policy"], "reactivation_window_days": 90}
    set_policy = await http.put("/v1/admin/products/fe-start/policy", json=policy, headers=ALICE)
    assert set_policy.json()["product"]["policy"]["reactivation_window_days"] == 90

    priced = await http.post(
        "/v1/admin/products/fe-start/price-versions",
        json={
            "effective_from": "2026-07-01",
            "base_yearly_cents": 2100,
            "option_unit_yearly_cents": {"storage": 900},
        },
        headers=BOB,
    )
    assert priced.status_code == 201, priced.text
    assert priced.headers["location"] == "/v1/products/fe-start/price-versions/2"

    managed = (await http.get("/v1/admin/products/fe-start", headers=ALICE)).json()
    assert managed["version"] == 4
    assert [(e["action"], e["by"], e["version"]) for e in managed["audit"]] == [
        ("created", "alice", 1),
        ("product revised", "bob", 2),
        ("policy set", "alice", 3),
        ("price version added", "bob", 4),
    ]
    assert managed["audit"][1]["fields"] == ["allowed_terms_years", "name"]
    assert managed["audit"][3]["fields"] == ["price_versions"]
    at = [datetime.fromisoformat(e["at"]) for e in managed["audit"]]
    assert at == [NOW, NOW, NOW + timedelta(hours=2), NOW + timedelta(hours=2)]
    assert (managed["changed_by"], datetime.fromisoformat(managed["changed_at"])) == (
        "bob",
        NOW + timedelta(hours=2),
    )


async def test_an_operator_creates_changes_and_revokes_a_convention_code(
    catalog: Catalog,
) -> None:
    http = catalog.http
    created = await http.post("/v1/admin/convention-codes", json=a_code(), headers=ALICE)
    assert created.status_code == 201, created.text
    assert created.json()["convention_code"]["code"] == "PRIMAVERA26"
    assert created.headers["location"] == "/v1/admin/convention-codes/PRIMAVERA26"

    widened = await http.put(
        "/v1/admin/convention-codes/primavera26",
        json=code_changes(a_code(), terms_years=[], applies_to="both"),
        headers=BOB,
    )
    assert widened.status_code == 200, widened.text
    assert widened.json()["convention_code"]["applies_to"] == "both"

    revoked = await http.post("/v1/admin/convention-codes/PRIMAVERA26/revoke", headers=ALICE)
    assert revoked.json()["convention_code"]["revoked"] is True
    again = await http.post("/v1/admin/convention-codes/PRIMAVERA26/revoke", headers=ALICE)
    assert again.json()["version"] == revoked.json()["version"] == 3

    frozen = await http.put(
        "/v1/admin/convention-codes/PRIMAVERA26", json=code_changes(a_code()), headers=BOB
    )
    assert frozen.status_code == 409
    listed = (await http.get("/v1/admin/convention-codes", headers=ALICE)).json()
    assert {c["convention_code"]["code"] for c in listed} == {
        "ORDINE-COMMERCIALISTI",
        "PRIMAVERA26",
    }
    history = (await http.get("/v1/admin/convention-codes/primavera26", headers=ALICE)).json()
    assert [(e["action"], e["by"]) for e in history["audit"]] == [
        ("created", "alice"),
        ("code revised", "bob"),
        ("code revoked", "alice"),
    ]


PRICE = "/v1/admin/products/fe-standard/price-versions"
PRODUCTS = "/v1/admin/products"
CODES = "/v1/admin/convention-codes"
SEEDED_PRICES = {"storage": 1000, "extra-user": 500, "nso": 1500}


def new_prices(**changes: Any) -> dict[str, Any]:
    body = {"effective_from": "2026-06-01", "base_yearly_cents": 2600}
    return {**body, "option_unit_yearly_cents": SEEDED_PRICES, **changes}


BAD_INPUT = [
    ("negative cents", "POST", PRICE, new_prices(base_yearly_cents=-1), "base_yearly_cents"),
    ("fractional cents", "POST", PRICE, new_prices(base_yearly_cents=12.5), "base_yearly_cents"),
    (
        "cents as text",
        "POST",
        PRICE,
        new_prices(option_unit_yearly_cents={**SEEDED_PRICES, "nso": "12"}),
        "option_unit_yearly_cents.nso",
    ),
    ("empty name", "POST", PRODUCTS, a_product(name=" "), "name"),
    (
        "term of 11 years",
        "POST",
        PRODUCTS,
        a_product(allowed_terms_years=[1, 11]),
        "allowed_terms_years.1",
    ),
    (
        "term of 0 years",
        "POST",
        PRODUCTS,
        a_product(allowed_terms_years=[0]),
        "allowed_terms_years.0",
    ),
    (
        "promotional for 3 years",
        "POST",
        PRODUCTS,
        a_product(promotional=True, allowed_terms_years=[1, 2, 3]),
        "allowed_terms_years",
    ),
    (
        "overlapping price versions",
        "POST",
        PRODUCTS,
        a_product(
            price_versions=[
                {**a_product()["price_versions"][0]},
                {**a_product()["price_versions"][0], "version": 2},
            ]
        ),
        "price_versions.1.effective_from",
    ),
    (
        "price version before the last one",
        "POST",
        PRICE,
        new_prices(effective_from="2024-12-31"),
        "effective_from",
    ),
    (
        "price version from today",
        "POST",
        PRICE,
        new_prices(effective_from="2026-03-10"),
        "effective_from",
    ),
    ("code ends before it starts", "POST", CODES, a_code(valid_to="2026-02-28"), "valid_to"),
    ("code for an unknown product", "POST", CODES, a_code(product_ids=["fe-gold"]), "product_ids"),
    (
        "code revised to an unknown product",
        "PUT",
        f"{CODES}/ORDINE-COMMERCIALISTI",
        code_changes(a_code(), product_ids=["fe-standard", "fe-gold"]),
        "product_ids",
    ),
    (
        "unpriced option",
        "POST",
        PRICE,
        new_prices(option_unit_yearly_cents={"storage": 1000}),
        "option_unit_yearly_cents",
    ),
    ("unknown field", "POST", CODES, a_code(percent=10), "percent"),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [case[1:] for case in BAD_INPUT],
    ids=[case[0] for case in BAD_INPUT],
)
async def test_bad_input_is_a_422_naming_the_field_and_nothing_is_stored(
    catalog: Catalog,
    mongo: Mongo,
    wait_until: Callable[..., Awaitable[None]],
    method: str,
    path: str,
    body: dict[str, Any],
    field: str,
) -> None:
    await wait_until(lambda: outbox_empty(mongo, catalog.database))
    before = await everything_stored(mongo, catalog.database)

    response = await catalog.http.request(method, path, json=body, headers=ALICE)

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert field in [e["field"] for e in problem["errors"]], problem
    assert await everything_stored(mongo, catalog.database) == before


async def everything_stored(mongo: Mongo, database: str) -> dict[str, list[dict[str, Any]]]:
    """The catalog's data: every collection but the relay's lease, which a live service renews
    every few seconds whatever the requests."""
    db = mongo[database]
    return {
        name: [doc async for doc in db[name].find({}).sort("_id")]
        for name in await db.list_collection_names()
        if name != "outbox_relay_leases"
    }


async def test_a_price_change_after_a_quote_leaves_the_quote_explained(catalog: Catalog) -> None:
    http = catalog.http
    # A quote made today names the version it used and the day it was made.
    quoted = (await http.get("/v1/products/fe-standard/price")).json()
    assert quoted["version"] == 1

    raised = new_prices(effective_from="2026-04-01", base_yearly_cents=2900)
    assert (await http.post(PRICE, json=raised, headers=ALICE)).status_code == 201

    # Later, after the new prices are in effect, the quote is still explained.
    catalog.clock.advance(timedelta(days=30))
    current = (await http.get("/v1/products/fe-standard/price")).json()
    assert (current["version"], current["base_yearly_cents"]) == (2, 2900)
    on_quote_day = await http.get("/v1/products/fe-standard/price", params={"on": str(TODAY)})
    assert on_quote_day.json() == quoted
    by_number = await http.get("/v1/products/fe-standard/price-versions/1")
    assert by_number.json() == quoted
    history = (await http.get("/v1/products/fe-standard")).json()["price_versions"]
    assert history[0] == quoted

    before_any = await http.get("/v1/products/fe-standard/price", params={"on": "2024-12-31"})
    assert before_any.status_code == 404
