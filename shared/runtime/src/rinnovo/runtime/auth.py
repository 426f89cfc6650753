"""Bearer-token authentication shared by every HTTP API.

Tokens are JWTs signed by the identity provider of the customer area (HS256 with a shared
secret here; an RS256 public key works the same way through PyJWT). ``sub`` is the customer
id (or the operator's name) and ``roles`` lists what the bearer may do: ``customer`` sees and
acts on its own things only; ``admin`` reaches the operator endpoints.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated

import jwt
from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from rinnovo.runtime.problems import Problem

CUSTOMER = "customer"
ADMIN = "admin"


class AuthSettings(BaseSettings):
    """Read without a service prefix: every service of a deployment trusts the same issuer."""

    model_config = SettingsConfigDict(env_prefix="RINNOVO_AUTH_", extra="ignore")

    secret: SecretStr = Field(
        default=SecretStr("dev-only-secret-change-me-in-any-real-deployment"),
        description="HS256 key shared with the identity provider.",
    )
    issuer: str = "rinnovo"
    audience: str = "rinnovo-api"
    algorithm: str = "HS256"


@dataclass(frozen=True)
class Principal:
    subject: str
    roles: frozenset[str]

    @property
    def is_admin(self) -> bool:
        return ADMIN in self.roles


def issue_token(
    settings: AuthSettings, subject: str, roles: set[str], ttl: timedelta = timedelta(hours=1)
) -> str:
    """Mint a token (demos, tests, the operator CLI); production tokens come from the IdP."""
    now = datetime.now(UTC)
    claims = {
        "sub": subject,
        "roles": sorted(roles),
        "iss": settings.issuer,
        "aud": settings.audience,
        "iat": now,
        "exp": now + ttl,
    }
    return jwt.encode(claims, settings.secret.get_secret_value(), algorithm=settings.algorithm)


def _unauthorized(detail: str) -> Problem:
    return Problem(401, "Unauthorized", detail, headers={"WWW-Authenticate": "Bearer"})


_bearer = HTTPBearer(auto_error=False, description="A JWT from the customer-area login.")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


class Auth:
    """FastAPI dependencies: ``customer`` and ``admin`` give the authenticated ``Principal``."""

    def __init__(self, settings: AuthSettings) -> None:
        self.settings = settings

        async def customer(credentials: Credentials) -> Principal:
            principal = self.verify(credentials)
            if CUSTOMER not in principal.roles:
                raise Problem(403, "Forbidden", "this operation needs a customer token")
            return principal

        async def admin(credentials: Credentials) -> Principal:
            principal = self.verify(credentials)
            if not principal.is_admin:
                raise Problem(403, "Forbidden", "this operation needs the admin role")
            return principal

        self.customer = customer
        self.admin = admin

    def verify(self, credentials: HTTPAuthorizationCredentials | None) -> Principal:
        if credentials is None:
            raise _unauthorized("a bearer token is required")
        try:
            claims = jwt.decode(
                credentials.credentials,
                self.settings.secret.get_secret_value(),
                algorithms=[self.settings.algorithm],
                audience=self.settings.audience,
                issuer=self.settings.issuer,
                options={"require": ["sub", "exp"]},
            )
        except jwt.PyJWTError as exc:
            raise _unauthorized(f"invalid token: {exc}") from exc
        roles = claims.get("roles", [])
        if not isinstance(roles, list):
            raise _unauthorized("invalid token: roles must be a list")
        return Principal(subject=str(claims["sub"]), roles=frozenset(map(str, roles)))
