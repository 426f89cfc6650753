"""What every page handler uses: the signed-in customer's APIs, checked forms, rendering."""

from dataclasses import dataclass

from fastapi import Request
from starlette.datastructures import FormData

from rinnovo.portal.apis import CustomerApis, Upstreams
from rinnovo.portal.csrf import Csrf
from rinnovo.portal.rendering import Pages
from rinnovo.portal.session import SignIn
from rinnovo.portal.settings import PortalSettings

MAX_FORM_BYTES = 64 * 1024
MAX_FORM_FIELDS = 50
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,199}$"
"""Ids in the portal's URLs: one path segment, bounded."""


class FormTooLarge(Exception):
    pass


@dataclass(frozen=True)
class Portal:
    settings: PortalSettings
    upstreams: Upstreams
    signin: SignIn
    csrf: Csrf
    pages: Pages

    async def apis(self, request: Request) -> CustomerApis:
        """The APIs as the signed-in customer (raises ``NotSignedIn``)."""
        customer = await self.signin.customer(request)
        return CustomerApis(self.upstreams, customer.customer_id, customer.token)

    async def form(self, request: Request) -> FormData:
        """The form of a POST, bounded, after its CSRF token is checked."""
        length = request.headers.get("content-length", "")
        if not length.isdigit() or int(length) > MAX_FORM_BYTES:
            raise FormTooLarge()
        form = await request.form(max_files=0, max_fields=MAX_FORM_FIELDS)
        self.csrf.check(request, form)
        return form


def field(form: FormData, name: str, limit: int = 200) -> str:
    """A text field of a form, trimmed and bounded ('' when absent)."""
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def number(form: FormData, name: str) -> int | None:
    """A whole number field, or None when absent or not a number (the API then decides)."""
    text = field(form, name, 12)
    return int(text) if text.lstrip("-").isdigit() else None
