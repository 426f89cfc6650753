"""A database outage under a request is a 503 the client may retry, not a 500."""

from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from pymongo.errors import AutoReconnect

from rinnovo.runtime.problems import install_problem_handlers


async def test_a_lost_database_connection_is_a_503_with_retry_after() -> None:
    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/things")
    async def add() -> None:
        raise AutoReconnect("127.0.0.1:27017: connection closed")

    async with AsyncClient(transport=ASGITransport(app), base_url="http://t") as client:
        answer = await client.post("/things")
    assert answer.status_code == 503
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["retry-after"] == "5"
    assert answer.json()["title"] == "Service unavailable"
