"""Who is signed in: the platform's token, in the cookie its identity provider sets.

The token is verified exactly as the APIs verify it (``rinnovo.runtime.auth``) and must
carry the ``customer`` role; the portal then calls the APIs with that same token, so every
service still decides for itself what the customer may see. Outside development mode a
token signed with the development secret is refused: that secret is public.
"""

from dataclasses import dataclass
from datetime import timedelta

from fastapi import Request
from fastapi.security import HTTPAuthorizationCredentials
from starlette.responses import Response

from rinnovo.runtime.auth import CUSTOMER, Auth, AuthSettings, issue_token
from rinnovo.runtime.problems import Problem

DEV_SESSION = timedelta(hours=8)
MAX_TOKEN = 8192


class NotSignedIn(Exception):
    """No token, or one that is not valid (expired, forged, not a customer's)."""


@dataclass(frozen=True)
class Customer:
    customer_id: str
    token: str


class SignIn:
    def __init__(self, auth: AuthSettings, cookie: str, dev_mode: bool) -> None:
        self.settings = auth
        self.auth = Auth(auth)
        self.cookie = cookie
        self.dev_mode = dev_mode

    async def customer(self, request: Request) -> Customer:
        token = request.cookies.get(self.cookie, "")
        if not token or len(token) > MAX_TOKEN:
            raise NotSignedIn()
        try:
            credentials = HTTPAuthorizationCredentials(scheme="Bearer", credentials=token)
            principal = await self.auth.verify(credentials)
        except Problem as exc:
            raise NotSignedIn() from exc
        if CUSTOMER not in principal.roles:
            raise NotSignedIn()
        return Customer(principal.subject, token)

    def mint(self, customer_id: str) -> str:
        """Development mode only: the token the identity provider would have given."""
        if not self.dev_mode:
            raise PermissionError("tokens are minted only in development mode")
        return issue_token(self.settings, customer_id, {CUSTOMER}, DEV_SESSION)

    def set_cookie(self, response: Response, token: str) -> None:
        response.set_cookie(
            self.cookie,
            token,
            max_age=int(DEV_SESSION.total_seconds()),
            httponly=True,
            secure=True,
            samesite="lax",
            path="/",
        )

    def clear_cookie(self, response: Response) -> None:
        response.delete_cookie(self.cookie, httponly=True, secure=True, samesite="lax", path="/")
