"""A bound on every request body, enforced before anything parses it or checks a token.

The body is read here, up to the limit, before the application sees the request: a
declared ``Content-Length`` over the limit is refused at once, and a streamed (chunked) body
is refused as soon as it passes the limit, so an oversized request costs at most the limit
in memory. The answer is 413 with problem details.
"""

from collections.abc import Mapping

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rinnovo.runtime.problems import PROBLEM_JSON


class BodyLimit:
    """ASGI middleware: ``max_bytes`` for every path, ``larger`` for a few named ones."""

    def __init__(self, app: ASGIApp, max_bytes: int, larger: Mapping[str, int]) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.larger = larger

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.larger.get(scope["path"], self.max_bytes)
        if _declared_length(scope) > limit:
            await _too_large(scope, receive, send, limit)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _too_large(scope, receive, send, limit)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        await self.app(scope, _replay(b"".join(chunks), receive), send)


def _declared_length(scope: Scope) -> int:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return 0  # the server refuses such a request itself
    return 0


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()  # what comes after the body: a disconnect
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


async def _too_large(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
    problem = {
        "type": "about:blank",
        "title": "Content too large",
        "status": 413,
        "instance": scope["path"],
        "detail": f"the body may have at most {limit} bytes",
    }
    response = JSONResponse(
        problem, status_code=413, media_type=PROBLEM_JSON, headers={"Connection": "close"}
    )
    await response(scope, receive, send)
