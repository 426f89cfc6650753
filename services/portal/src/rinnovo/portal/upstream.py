"""Calls to the other services' public APIs, with the customer's own token.

An answer is either the JSON body, an :class:`ApiError` (a 4xx problem the page can explain:
its title, detail and the fields at fault) or :class:`Unavailable` (no answer, or a 5xx): the
pages show the first as a message and the second as a notice, never as raw JSON.
"""

import contextvars
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import structlog

log = structlog.get_logger(__name__)

upstream_seconds: contextvars.ContextVar[list[float] | None] = contextvars.ContextVar(
    "upstream_seconds", default=None
)
"""The time of this request's API calls, added up (its ``Server-Timing`` tells it). A list,
so that calls made in tasks of their own (``asyncio.gather``) add to the same total."""


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


@dataclass
class ApiError(Exception):
    """A problem the API answered (RFC 9457): the customer can act on it."""

    service: str
    status: int
    title: str
    detail: str = ""
    errors: list[FieldError] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.service} {self.status}: {self.detail or self.title}"

    def about(self, prefix: str) -> FieldError | None:
        """The first error of a field (or of a field under it, e.g. ``acceptances``)."""
        return next((e for e in self.errors if e.field.startswith(prefix)), None)


@dataclass
class Unavailable(Exception):
    """The service did not answer, or failed: nothing the customer did is wrong."""

    service: str
    reason: str

    def __str__(self) -> str:
        return f"{self.service} unavailable: {self.reason}"


def _problem(service: str, answer: httpx.Response) -> ApiError:
    try:
        body = answer.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    errors = [
        FieldError(str(e.get("field", "")), str(e.get("message", "")))
        for e in body.get("errors") or []
        if isinstance(e, dict)
    ]
    return ApiError(
        service=service,
        status=answer.status_code,
        title=str(body.get("title") or answer.reason_phrase),
        detail=str(body.get("detail") or ""),
        errors=errors,
    )


class Upstream:
    """One service's API."""

    def __init__(
        self,
        name: str,
        base_url: str,
        timeout: float,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.name = name
        self.client = httpx.AsyncClient(
            base_url=base_url,
            timeout=timeout,
            transport=transport,
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=50),
        )

    async def call(
        self,
        method: str,
        path: str,
        token: str,
        *,
        json: Any = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        started = time.perf_counter()
        try:
            answer = await self.client.request(
                method,
                path,
                json=json,
                params=params,
                headers={"Authorization": f"Bearer {token}", **(headers or {})},
            )
        except httpx.TransportError as exc:
            log.warning("upstream unreachable", upstream=self.name, error=type(exc).__name__)
            raise Unavailable(self.name, type(exc).__name__) from exc
        finally:
            if (spent := upstream_seconds.get()) is not None:
                spent[0] += time.perf_counter() - started
        if answer.status_code >= 500:
            log.warning("upstream failed", upstream=self.name, status=answer.status_code)
            raise Unavailable(self.name, f"status {answer.status_code}")
        if answer.status_code >= 400:
            raise _problem(self.name, answer)
        if answer.status_code == 204 or not answer.content:
            return None
        try:
            return answer.json()
        except ValueError as exc:
            raise Unavailable(self.name, "an answer that is not JSON") from exc

    async def ready(self) -> bool:
        """Whether the service answers ready; quietly, for it may be starting."""
        try:
            answer = await self.client.get("/health/ready")
        except httpx.TransportError:
            return False
        return answer.status_code == 200

    async def aclose(self) -> None:
        await self.client.aclose()
