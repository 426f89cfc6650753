"""The admin API's edge: who may call it, and input refused before anything is read or stored.

No server is needed: these requests are answered before the handler touches the database
(the app is not started, so any database access would fail the test).
"""

from datetime import timedelta
from typing import Any

import pytest
from httpx import ASGITransport, AsyncClient
from hypothesis import given, settings
from hypothesis import strategies as st

from rinnovo.catalog.bootstrap import CatalogSettings, build
from rinnovo.runtime.auth import issue_token

BUILT = build(CatalogSettings())
AUTH = BUILT.runtime.auth.settings
ADMIN_ROUTES = [
    (method.upper(), path)
    for path, operations in BUILT.app.openapi()["paths"].items()
    if path.startswith("/v1/admin")
    for method in operations
]


@pytest.fixture
def client() -> AsyncClient:
    # Not started (no lifespan): nothing connects to Kafka or MongoDB.
    return AsyncClient(transport=ASGITransport(BUILT.app), base_url="http://catalog")


def bearer(*roles: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(AUTH, 'someone', set(roles))}"}


def concrete(path: str) -> str:
    return path.replace("{product_id}", "fe-standard").replace("{code}", "WELCOME")


def test_every_admin_operation_is_listed() -> None:
    assert len(ADMIN_ROUTES) == 11


@pytest.mark.parametrize(("method", "path"), ADMIN_ROUTES)
async def test_admin_operations_refuse_a_request_without_a_token(
    client: AsyncClient, method: str, path: str
) -> None:
    response = await client.request(method, concrete(path))
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(("method", "path"), ADMIN_ROUTES)
@pytest.mark.parametrize("token", ["customer", "forged", "expired"])
async def test_admin_operations_refuse_a_token_without_the_admin_role(
    client: AsyncClient, method: str, path: str, token: str
) -> None:
    headers = {
        "customer": bearer("customer"),
        "forged": {"Authorization": "Bearer " + issue_token(AUTH, "x", {"admin"}) + "x"},
        "expired": {
            "Authorization": "Bearer "
            + issue_token(AUTH, "x", {"admin"}, ttl=timedelta(seconds=-1))
        },
    }[token]
    response = await client.request(method, concrete(path), headers=headers)
    assert response.status_code == (403 if token == "customer" else 401)
    assert response.json()["status"] == response.status_code


async def test_the_published_openapi_marks_admin_operations_as_needing_a_bearer_token(
    client: AsyncClient,
) -> None:
    spec = (await client.get("/openapi.json")).json()
    for path, operations in spec["paths"].items():
        for operation in operations.values():
            secured = bool(operation.get("security"))
            assert secured == path.startswith("/v1/admin"), path


def price_body(**changes: Any) -> dict[str, Any]:
    return {
        "effective_from": "2030-01-01",
        "base_yearly_cents": 2500,
        "option_unit_yearly_cents": {"storage": 1000, "extra-user": 500, "nso": 1500},
        **changes,
    }


@settings(max_examples=30, deadline=None)
@given(
    bad=st.one_of(
        st.integers(max_value=-1),
        st.floats(min_value=-1e6, max_value=1e6).filter(lambda f: not f.is_integer()),
        st.integers(min_value=0, max_value=10**6).map(str),
        st.none(),
    )
)
async def test_bad_cents_are_a_422_naming_the_field(bad: object) -> None:
    client = AsyncClient(transport=ASGITransport(BUILT.app), base_url="http://catalog")
    response = await client.post(
        "/v1/admin/products/fe-standard/price-versions",
        json=price_body(base_yearly_cents=bad),
        headers=bearer("admin"),
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in response.json()["errors"]] == ["base_yearly_cents"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "  "}, "name"),
        ({"allowed_terms_years": [1, "2"]}, "allowed_terms_years.1"),
        ({"colour": "red"}, "colour"),
        ({"vat": {"rate_basis_points": 2200, "rounding": "down"}}, "vat.rounding"),
    ],
)
async def test_malformed_products_are_a_422_naming_the_field(
    client: AsyncClient, body: dict[str, Any], field: str
) -> None:
    product = {
        "product_id": "fe-new",
        "name": "New",
        "promotional": False,
        "allowed_terms_years": [1],
        "options": [],
        "price_versions": [],
        "vat": {"rate_basis_points": 2200},
        "policy": {},
        **body,
    }
    response = await client.post("/v1/admin/products", json=product, headers=bearer("admin"))
    assert response.status_code == 422
    assert field in [e["field"] for e in response.json()["errors"]]
