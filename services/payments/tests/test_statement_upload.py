"""The statement upload as the OpenAPI document describes it, and what it refuses unread.

The app is not started: a request that reached the database would fail the test.
"""

from httpx import ASGITransport, AsyncClient

from rinnovo.payments.bootstrap import PaymentsSettings, build
from rinnovo.runtime.auth import issue_token

BUILT = build(PaymentsSettings())
ADMIN = {"Authorization": f"Bearer {issue_token(BUILT.runtime.auth.settings, 'ops', {'admin'})}"}


def test_the_document_describes_the_file_and_every_refusal() -> None:
    operation = BUILT.app.openapi()["paths"]["/v1/admin/statements"]["post"]
    assert set(operation["requestBody"]["content"]) == {"application/xml", "text/csv"}
    assert {"400", "413", "415", "422"} <= set(operation["responses"])


async def test_a_file_of_another_kind_is_refused_with_415() -> None:
    async with AsyncClient(
        transport=ASGITransport(BUILT.app), base_url="http://payments", headers=ADMIN
    ) as client:
        response = await client.post("/v1/admin/statements", json={"not": "a statement"})
    assert response.status_code == 415
    assert response.headers["content-type"] == "application/problem+json"
