"""CSRF protection of every form: a signed double-submit token.

Each browser gets a random nonce in an HttpOnly, ``SameSite=Lax`` cookie; every form
carries ``HMAC(key, nonce)``. A request from another site can neither read the token nor
make one: it would need the key. The session cookie is ``SameSite=Lax`` as the identity
provider sets it, so this is the defence that does not depend on the browser.
"""

import hashlib
import hmac
import secrets

from fastapi import Request
from starlette.datastructures import FormData
from starlette.responses import Response

COOKIE = "portal_csrf"
FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
MAX_NONCE = 128


class CsrfRefused(Exception):
    """A form without a valid token: sent from elsewhere, or from a page too old."""


class Csrf:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def nonce(self, request: Request) -> tuple[str, bool]:
        """This browser's nonce, and whether it is new (to be set on the answer)."""
        found = request.cookies.get(COOKIE, "")
        if 16 <= len(found) <= MAX_NONCE:
            return found, False
        return secrets.token_urlsafe(32), True

    def token(self, nonce: str) -> str:
        return hmac.new(self._key, nonce.encode(), hashlib.sha256).hexdigest()

    def set_cookie(self, response: Response, nonce: str) -> None:
        response.set_cookie(COOKIE, nonce, httponly=True, secure=True, samesite="lax", path="/")

    def check(self, request: Request, form: FormData) -> None:
        nonce = request.cookies.get(COOKIE, "")
        sent = form.get(FIELD) or request.headers.get(HEADER) or ""
        if not nonce or len(nonce) > MAX_NONCE or not isinstance(sent, str):
            raise CsrfRefused("no token")
        if not hmac.compare_digest(sent, self.token(nonce)):
            raise CsrfRefused("a token that does not match")
