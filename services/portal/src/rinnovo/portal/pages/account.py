"""Signing in and out, and the language switch.

Production: the identity provider signs customers in and leaves the token in a cookie;
signing out forgets it here. Development mode only: ``/dev/sign-in`` lists the demo
customers and mints a token for the one chosen (the routes do not exist otherwise).
"""

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from rinnovo.portal.demo import DEMO_CUSTOMERS
from rinnovo.portal.i18n import LANGUAGE_COOKIE
from rinnovo.portal.web import Portal, field

Next = Annotated[str, Query(max_length=500)]


def local(target: str) -> str:
    """Only a path of this site: never a way to send a customer elsewhere."""
    parts = urlsplit(target)
    ok = target.startswith("/") and not parts.scheme and not parts.netloc and "\\" not in target
    return target if ok and not target.startswith("//") else "/services"


def router(portal: Portal) -> APIRouter:
    routes = APIRouter()
    Form = Annotated[FormData, Depends(portal.form)]

    @routes.get("/language/{language}")
    async def language(
        language: Annotated[str, Path(pattern="^(it|en)$")], next: Next = "/services"
    ) -> RedirectResponse:
        response = RedirectResponse(local(next), status_code=303)
        response.set_cookie(
            LANGUAGE_COOKIE, language, max_age=365 * 86400, secure=True, samesite="lax"
        )
        return response

    @routes.post("/sign-out")
    async def sign_out(form: Form) -> RedirectResponse:
        target = "/dev/sign-in" if portal.settings.dev_mode else "/services"
        response = RedirectResponse(target, status_code=303)
        portal.signin.clear_cookie(response)
        return response

    if portal.settings.dev_mode:
        routes.include_router(dev_router(portal))
    return routes


def dev_router(portal: Portal) -> APIRouter:
    routes = APIRouter(prefix="/dev")
    Form = Annotated[FormData, Depends(portal.form)]
    known = {c.customer_id for c in DEMO_CUSTOMERS}

    @routes.get("/sign-in")
    async def sign_in_page(request: Request, next: Next = "/services") -> Response:
        return portal.pages.render(
            request, "dev_sign_in.html", customers=DEMO_CUSTOMERS, next=local(next), signed_in=False
        )

    @routes.post("/sign-in")
    async def sign_in(request: Request, form: Form) -> Response:
        customer_id = field(form, "customer_id")
        if customer_id not in known:
            return await sign_in_page(request)
        response = RedirectResponse(local(field(form, "next", 500)), status_code=303)
        portal.signin.set_cookie(response, portal.signin.mint(customer_id))
        return response

    return routes
