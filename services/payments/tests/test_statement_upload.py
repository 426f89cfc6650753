"""The statement upload as the OpenAPI document describes it, and what it refuses unread.

The app is not started: a request that reached the database would fail the test.
"""

import pytest
from httpx import ASGITransport, AsyncClient

from rinnovo.payments.bootstrap import PaymentsSettings, build
from rinnovo.payments.testing_statements import Ntry, Report, camt
from rinnovo.runtime.auth import issue_token

BUILT = build(PaymentsSettings())
ADMIN = {"Authorization": f"Bearer {issue_token(BUILT.runtime.auth.settings, 'ops', {'admin'})}"}


def client() -> AsyncClient:
    return AsyncClient(
        transport=ASGITransport(BUILT.app), base_url="http://payments", headers=ADMIN
    )


def test_the_document_describes_the_file_and_every_refusal() -> None:
    operation = BUILT.app.openapi()["paths"]["/v1/admin/statements"]["post"]
    assert {"application/xml", "text/csv", "application/x-mt940"} <= set(
        operation["requestBody"]["content"]
    )
    assert {"400", "413", "415", "422"} <= set(operation["responses"])
    entry = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert entry == {"$ref": "#/components/schemas/ImportOut"}


async def test_a_file_of_another_kind_is_refused_with_415() -> None:
    async with client() as ops:
        response = await ops.post("/v1/admin/statements", json={"not": "a statement"})
    assert response.status_code == 415
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("content", "content_type", "field"),
    [
        # A credit of 10^20 euro once failed in the database write with a 500.
        (
            b"transaction_id,date,amount,remittance\nT-1,2026-03-02,100000000000000000000,x\n",
            "text/csv",
            "line 2, column amount",
        ),
        (
            camt(Report((Ntry("9999999999999.99", ref="B1"),))),
            "application/xml",
            "Stmt[1]/Ntry[1]/Amt",
        ),
        (
            b":20:X\r\n:25:IT60\r\n:28C:1\r\n:60F:C260301EUR0,00\r\n:61:2603020302C99999999999,00NTRFNONREF//B\r\n",
            "application/x-mt940",
            "statement 1 :61:[1]",
        ),
    ],
)
async def test_an_amount_above_the_bound_is_a_422_naming_its_place(
    content: bytes, content_type: str, field: str
) -> None:
    async with client() as ops:
        response = await ops.post(
            "/v1/admin/statements", content=content, headers={"Content-Type": content_type}
        )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    [error] = response.json()["errors"]
    assert error["field"] == field
    assert "above the largest amount" in error["message"]
