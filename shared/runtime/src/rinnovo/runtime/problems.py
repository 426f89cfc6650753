"""HTTP errors as RFC 9457 problem details (``application/problem+json``)."""

from collections.abc import Sequence
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from pymongo.errors import ConnectionFailure
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rinnovo.runtime.errors import Conflict, Invalid, NotFound

log = structlog.get_logger(__name__)

PROBLEM_JSON = "application/problem+json"


class Problem(Exception):
    """An error the client can act on; raised by handlers, rendered as problem+json."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str = "",
        *,
        type_: str = "about:blank",
        errors: Sequence[dict[str, Any]] = (),
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail or title)
        self.headers = headers
        self.status = status
        self.title = title
        self.detail = detail
        self.type = type_
        self.errors = list(errors)


def problem_response(
    request: Request,
    status: int,
    title: str,
    detail: str = "",
    type_: str = "about:blank",
    errors: Sequence[dict[str, Any]] = (),
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": type_,
        "title": title,
        "status": status,
        "instance": request.url.path,
    }
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = list(errors)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    """Each error names its field as a dotted path without the ``body``/``query`` prefix."""
    out = []
    for error in exc.errors():
        loc = [str(p) for p in error.get("loc", ())]
        if loc and loc[0] in {"body", "query", "path", "header"}:
            loc = loc[1:]
        out.append({"field": ".".join(loc) or "body", "message": error.get("msg", "invalid")})
    return out


class FieldError(BaseModel):
    field: str = Field(description="Dotted path of the field at fault; `body` for the whole.")
    message: str


class ProblemDetails(BaseModel):
    """An error answer (RFC 9457 problem details)."""

    type: str = Field(default="about:blank", description="A URI naming the kind of problem.")
    title: str
    status: int
    instance: str = Field(description="The path of the request.")
    detail: str | None = Field(default=None, description="Present when there is more to say.")
    errors: list[FieldError] | None = Field(
        default=None, description="Each field at fault (422 only)."
    )


UNREADABLE_BODY = {"description": "The body cannot be read"}


def document_problems(schema: dict[str, Any]) -> dict[str, Any]:
    """Say in an OpenAPI document what error answers really carry: problem details.

    FastAPI documents its own validation error (``application/json``, ``HTTPValidationError``)
    and nothing for the responses a route only describes; every 4xx and 5xx answer here is
    ``application/problem+json`` with a ``ProblemDetails`` body, unless the route documents
    another body itself. A body that is not text
    at all is refused with 400 before validation. Changes ``schema`` in place.
    """
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    reference = {"$ref": "#/components/schemas/ProblemDetails"}
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            if "requestBody" in operation:
                operation["responses"].setdefault("400", UNREADABLE_BODY)
            for status, response in operation.get("responses", {}).items():
                content = response.get("content")
                fastapis = content is not None and "HTTPValidationError" in str(content)
                if str(status)[:1] in {"4", "5"} and (content is None or fastapis):
                    response["content"] = {PROBLEM_JSON: {"schema": reference}}
    nested = ProblemDetails.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(nested.pop("$defs", {}))
    components["ProblemDetails"] = nested
    for unused in ("HTTPValidationError", "ValidationError"):
        if f"#/components/schemas/{unused}" not in str(schema.get("paths")):
            components.pop(unused, None)
    return schema


COMMON_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "No or invalid bearer token"},
    403: {"description": "The token lacks the role"},
    404: {"description": "Not found (or not yours)"},
    409: {"description": "Not possible in the current state"},
    422: {"description": "Invalid request; `errors` names each field"},
}
"""The answers every protected route may give, for the OpenAPI documents."""


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(NotFound)
    async def _not_found(request: Request, exc: NotFound) -> JSONResponse:
        return problem_response(request, 404, "Not found", str(exc))

    @app.exception_handler(Conflict)
    async def _conflict(request: Request, exc: Conflict) -> JSONResponse:
        return problem_response(request, 409, "Conflict", str(exc))

    @app.exception_handler(Invalid)
    async def _invalid_field(request: Request, exc: Invalid) -> JSONResponse:
        errors = [{"field": exc.field, "message": exc.reason}]
        return problem_response(request, 422, "Invalid request", str(exc), errors=errors)

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(
            request, exc.status, exc.title, exc.detail, exc.type, exc.errors, exc.headers
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = field_errors(exc)
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return problem_response(request, 422, "Invalid request", detail, errors=errors)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        title = exc.detail if isinstance(exc.detail, str) else "Error"
        headers = dict(exc.headers) if exc.headers else None
        return problem_response(request, exc.status_code, title, headers=headers)

    @app.exception_handler(ConnectionFailure)
    async def _database_away(request: Request, exc: ConnectionFailure) -> JSONResponse:
        # Nothing was done or everything done is stored and idempotent: the client may retry.
        log.warning("database unavailable", path=request.url.path, error=str(exc))
        return problem_response(
            request,
            503,
            "Service unavailable",
            "The database cannot be reached right now; try again shortly.",
            headers={"Retry-After": "5"},
        )

    app.add_middleware(UnexpectedErrors)


class UnexpectedErrors:
    """A bug answers 500 problem+json, and the connection stays usable.

    Starlette's last-resort handler answers too, but then raises the error again for the
    server to log, and uvicorn closes a connection whose app raised: a client's next request,
    already sent on that kept-alive connection, was reset. Here the error is logged and
    answered, and goes no further (unless the answer had begun: then only closing is left).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception as exc:
            if started:
                raise
            request = Request(scope)
            log.error("unhandled error", path=request.url.path, exc_info=exc)
            await problem_response(request, 500, "Internal error")(scope, receive, send)
