"""The notifier API's query parameters, refused before anything is read.

The app is not started: a request that reached the database would fail the test.
"""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from httpx import ASGITransport, AsyncClient

from rinnovo.notifier.bootstrap import NotifierSettings, build
from rinnovo.notifier.entrypoints.http import _in_utc
from rinnovo.runtime.auth import issue_token

BUILT = build(NotifierSettings())


def bearer(subject: str, role: str) -> dict[str, str]:
    token = issue_token(BUILT.runtime.auth.settings, subject, {role})
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize(
    ("path", "role"), [("/v1/admin/notifications", "admin"), ("/v1/notifications", "customer")]
)
@pytest.mark.parametrize("before", ["0001-01-01T00:01:00+01:00", "9999-12-31T23:59:00-01:00"])
async def test_an_instant_with_no_utc_equivalent_is_refused(
    path: str, role: str, before: str
) -> None:
    async with AsyncClient(
        transport=ASGITransport(BUILT.app), base_url="http://notifier", headers=bearer("c1", role)
    ) as client:
        response = await client.get(path, params={"before": before})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in response.json()["errors"]] == ["before"]


def test_instants_are_compared_in_utc() -> None:
    rome = timezone(timedelta(hours=1))
    assert _in_utc(datetime(2027, 3, 1, 10, 30, tzinfo=rome)) == datetime(
        2027, 3, 1, 9, 30, tzinfo=UTC
    )
    assert _in_utc(datetime(2027, 3, 1, 9, 30)) == datetime(2027, 3, 1, 9, 30, tzinfo=UTC)
    assert _in_utc(None) is None
