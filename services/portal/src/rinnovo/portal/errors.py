"""Whatever goes wrong becomes a page a customer can read: never JSON, never a stack trace.

- not signed in: to the sign-in page (the identity provider's, or the development one);
- a problem an API answered: its words on the page, with the status it had (404 shows the
  not-found page: another customer's service looks exactly like one that does not exist);
- a service that does not answer: a notice that it is unavailable, 503, nothing lost.
"""

from urllib.parse import urlencode

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.exceptions import HTTPException
from starlette.responses import RedirectResponse, Response

from rinnovo.portal.csrf import CsrfRefused
from rinnovo.portal.session import NotSignedIn
from rinnovo.portal.upstream import ApiError, Unavailable
from rinnovo.portal.web import FormTooLarge, Portal

log = structlog.get_logger(__name__)

PARTIAL = "X-Portal-Partial"
"""Sent by the page's own script when it asks for a part of a page."""


def _signin(portal: Portal, request: Request) -> Response:
    here = request.url.path
    if request.headers.get(PARTIAL) or request.method != "GET":
        here = "/"
    if portal.settings.dev_mode:
        return RedirectResponse("/dev/sign-in?" + urlencode({"next": here}), status_code=303)
    if portal.settings.signin_url:
        target = str(request.url.replace(path=here, query=""))
        url = portal.settings.signin_url
        joiner = "&" if "?" in url else "?"
        return RedirectResponse(url + joiner + urlencode({"next": target}), status_code=303)
    return portal.pages.render(request, "signed_out.html", status=401, signed_in=False)


def install(app: FastAPI, portal: Portal) -> None:
    pages = portal.pages

    def problem(request: Request, status: int, title: str, detail: str = "") -> Response:
        template = "not_found.html" if status == 404 else "problem.html"
        return pages.render(request, template, status=status, title=title, detail=detail)

    @app.exception_handler(NotSignedIn)
    async def _not_signed_in(request: Request, exc: NotSignedIn) -> Response:
        return _signin(portal, request)

    @app.exception_handler(CsrfRefused)
    async def _csrf(request: Request, exc: CsrfRefused) -> Response:
        log.info("form refused", path=request.url.path, reason=str(exc))
        return problem(
            request,
            403,
            pages.text(request, "This form has expired"),
            pages.text(request, "Reload the page and try again."),
        )

    @app.exception_handler(FormTooLarge)
    async def _too_large(request: Request, exc: FormTooLarge) -> Response:
        return problem(request, 413, pages.text(request, "The form is too large"))

    @app.exception_handler(ApiError)
    async def _api(request: Request, exc: ApiError) -> Response:
        return problem(request, exc.status, exc.title, exc.detail)

    @app.exception_handler(Unavailable)
    async def _unavailable(request: Request, exc: Unavailable) -> Response:
        response = pages.render(request, "unavailable.html", status=503, service=exc.service)
        response.headers["Retry-After"] = "10"
        return response

    @app.exception_handler(ValidationError)
    async def _unexpected_answer(request: Request, exc: ValidationError) -> Response:
        log.error("an API answered what the portal cannot read", errors=exc.error_count())
        return pages.render(request, "unavailable.html", status=502, service="")

    @app.exception_handler(RequestValidationError)
    async def _bad_request(request: Request, exc: RequestValidationError) -> Response:
        in_path = any(e.get("loc", ("",))[0] == "path" for e in exc.errors())
        if in_path:
            return problem(request, 404, pages.text(request, "Page not found"))
        return problem(request, 400, pages.text(request, "The request cannot be read"))

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        if exc.status_code in (404, 405):
            return problem(request, 404, pages.text(request, "Page not found"))
        return problem(request, exc.status_code, str(exc.detail))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.error("unhandled error", path=request.url.path, exc_info=exc)
        return problem(request, 500, pages.text(request, "Something went wrong on our side"))
