"""Error answers are problem details, and every service's OpenAPI document says so.

No server is needed: the app is not started and its routes touch nothing.
"""

from typing import Any

import pytest
from fastapi import APIRouter
from httpx import ASGITransport, AsyncClient
from pydantic import BaseModel

from rinnovo.runtime.clock import SystemClock
from rinnovo.runtime.errors import NotFound
from rinnovo.runtime.problems import COMMON_RESPONSES, PROBLEM_JSON, ProblemDetails
from rinnovo.runtime.service import ServiceRuntime
from rinnovo.runtime.settings import ServiceSettings

PROBLEM = {"$ref": "#/components/schemas/ProblemDetails"}


class Thing(BaseModel):
    name: str


def things() -> APIRouter:
    router = APIRouter(prefix="/v1", responses=COMMON_RESPONSES)

    @router.get("/things/{thing_id}")
    async def get_thing(thing_id: str, size: int = 1) -> Thing:
        raise NotFound(f"no thing {thing_id}")

    @router.post("/things", status_code=201)
    async def add_thing(thing: Thing) -> Thing:
        return thing

    return router


APP = ServiceRuntime("probe", ServiceSettings(), SystemClock()).http_app([things()], title="probe")


@pytest.fixture
def client() -> AsyncClient:
    return AsyncClient(transport=ASGITransport(APP), base_url="http://probe")


async def document(client: AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    found: dict[str, Any] = response.json()
    return found


async def test_every_error_answer_is_documented_as_problem_details(client: AsyncClient) -> None:
    spec = await document(client)
    responses = {
        (path, method, status): response
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        for status, response in operation["responses"].items()
    }
    errors = {k: r for k, r in responses.items() if k[2][0] in "45"}
    # Not ready is no problem: the probe's own body says so.
    readiness = errors.pop(("/health/ready", "get", "503"))
    assert readiness["content"] == {
        "application/json": {"schema": {"$ref": "#/components/schemas/Readiness"}}
    }
    assert ("/v1/things/{thing_id}", "get", "422") in errors
    for response in errors.values():
        assert response["content"] == {PROBLEM_JSON: {"schema": PROBLEM}}
    assert spec["components"]["schemas"]["ProblemDetails"]["required"] == [
        "title",
        "status",
        "instance",
    ]
    assert "HTTPValidationError" not in spec["components"]["schemas"]


async def test_an_unreadable_body_is_a_documented_answer(client: AsyncClient) -> None:
    spec = await document(client)
    assert "400" in spec["paths"]["/v1/things"]["post"]["responses"]
    assert "400" not in spec["paths"]["/v1/things/{thing_id}"]["get"]["responses"]

    refused = await client.post(
        "/v1/things", content=b"\xff\xfe{", headers={"Content-Type": "application/json"}
    )

    assert refused.status_code == 400
    assert refused.headers["content-type"] == PROBLEM_JSON
    ProblemDetails.model_validate(refused.json())


@pytest.mark.parametrize(
    ("path", "status"), [("/v1/things/t1", 404), ("/v1/things/t1?size=big", 422)]
)
async def test_error_answers_match_the_documented_schema(
    client: AsyncClient, path: str, status: int
) -> None:
    response = await client.get(path)
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM_JSON
    ProblemDetails.model_validate(response.json())
