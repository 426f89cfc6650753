"""Bearer-token authentication shared by every HTTP API.

Tokens are JWTs from the identity provider of the customer area. ``sub`` is the customer id
(or the operator's name) and ``roles`` lists what the bearer may do: ``customer`` sees and
acts on its own things only; ``admin`` reaches the operator endpoints.

Three ways to trust an issuer (see docs/security.md):
- one HS256 key, ``RINNOVO_AUTH_SECRET``;
- several HS256 keys by ``kid`` (``RINNOVO_AUTH_KEYS``), so a key is rotated without downtime;
- the identity provider's public keys (RS256/ES256) read from its JWKS URL
  (``RINNOVO_AUTH_JWKS_URL``) by PyJWT's ``PyJWKClient``, cached and refreshed on a new
  ``kid``.
Every token must carry ``iat`` and live at most ``RINNOVO_AUTH_MAX_LIFETIME_SECONDS``.
"""

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

import jwt
from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from rinnovo.runtime.problems import Problem
from rinnovo.runtime.safety import DEV_MODE_ENV, InsecureSetting

CUSTOMER = "customer"
ADMIN = "admin"
DEV_SECRET = "dev-only-secret-change-me-in-any-real-deployment"
"""Public, so it only works in development mode."""
MIN_KEY_BYTES = 32


class AuthSettings(BaseSettings):
    """Read without a service prefix: every service of a deployment trusts the same issuer."""

    model_config = SettingsConfigDict(env_prefix="RINNOVO_AUTH_", extra="ignore")

    secret: SecretStr = Field(
        default=SecretStr(DEV_SECRET),
        description="HS256 key shared with the identity provider (the default: development).",
    )
    keys: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="HS256 keys by `kid`, for rotation; when set, tokens must name one and "
        "`secret` is not used. Tokens minted here use the last one.",
    )
    jwks_url: str | None = Field(
        default=None, description="The identity provider's JWKS: RS256/ES256 tokens only."
    )
    jwks_algorithms: list[Literal["RS256", "RS384", "RS512", "ES256", "ES384", "PS256"]] = [
        "RS256",
        "ES256",
    ]
    issuer: str = "rinnovo"
    audience: str = "rinnovo-api"
    algorithm: Literal["HS256", "HS384", "HS512"] = "HS256"
    max_lifetime_seconds: int = Field(
        default=24 * 3600, ge=60, description="Longest `exp - iat` accepted."
    )
    leeway_seconds: int = Field(default=0, ge=0, le=300, description="Clock skew allowed.")

    def refuse_unsafe(self, dev_mode: bool) -> None:
        """Raise ``InsecureSetting`` unless the keys in use are fit for a deployment."""
        if self.jwks_url is not None:
            if self.keys:
                raise InsecureSetting("RINNOVO_AUTH_KEYS", "set the keys or a JWKS URL, not both")
            if not self.jwks_url.startswith("https://") and not dev_mode:
                raise InsecureSetting("RINNOVO_AUTH_JWKS_URL", "must be an https:// URL")
            return
        if dev_mode:
            return
        named = {f"RINNOVO_AUTH_KEYS[{kid}]": key for kid, key in self.keys.items()}
        for setting, key in (named or {"RINNOVO_AUTH_SECRET": self.secret}).items():
            value = key.get_secret_value()
            if value == DEV_SECRET:
                raise InsecureSetting(
                    setting, f"is the public development default (set {DEV_MODE_ENV} or a key)"
                )
            if len(value.encode()) < MIN_KEY_BYTES:
                raise InsecureSetting(setting, f"is shorter than {MIN_KEY_BYTES} bytes")


@dataclass(frozen=True)
class Principal:
    subject: str
    roles: frozenset[str]

    @property
    def is_admin(self) -> bool:
        return ADMIN in self.roles


def issue_token(
    settings: AuthSettings,
    subject: str,
    roles: set[str],
    ttl: timedelta = timedelta(hours=1),
    kid: str | None = None,
) -> str:
    """Mint a token (demos, tests, the operator CLI); production tokens come from the IdP."""
    if settings.jwks_url is not None:
        raise ValueError("with a JWKS URL, tokens come from the identity provider only")
    now = datetime.now(UTC)
    claims = {
        "sub": subject,
        "roles": sorted(roles),
        "iss": settings.issuer,
        "aud": settings.audience,
        "iat": now,
        "exp": now + ttl,
    }
    key, headers = settings.secret, None
    if settings.keys:
        kid = kid or list(settings.keys)[-1]
        key, headers = settings.keys[kid], {"kid": kid}
    return jwt.encode(claims, key.get_secret_value(), algorithm=settings.algorithm, headers=headers)


def _unauthorized(detail: str) -> Problem:
    return Problem(401, "Unauthorized", detail, headers={"WWW-Authenticate": "Bearer"})


_bearer = HTTPBearer(auto_error=False, description="A JWT from the customer-area login.")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


class Auth:
    """FastAPI dependencies: ``customer`` and ``admin`` give the authenticated ``Principal``."""

    def __init__(self, settings: AuthSettings) -> None:
        self.settings = settings
        self._jwks = (
            jwt.PyJWKClient(settings.jwks_url, cache_keys=True, timeout=10)
            if settings.jwks_url
            else None
        )

        async def customer(credentials: Credentials) -> Principal:
            principal = await self.verify(credentials)
            if CUSTOMER not in principal.roles:
                raise Problem(403, "Forbidden", "this operation needs a customer token")
            return principal

        async def admin(credentials: Credentials) -> Principal:
            principal = await self.verify(credentials)
            if not principal.is_admin:
                raise Problem(403, "Forbidden", "this operation needs the admin role")
            return principal

        self.customer = customer
        self.admin = admin

    async def verify(self, credentials: HTTPAuthorizationCredentials | None) -> Principal:
        if credentials is None:
            raise _unauthorized("a bearer token is required")
        s = self.settings
        token = credentials.credentials
        try:
            key, algorithms = await self._key_of(token)
            claims = jwt.decode(
                token,
                key,
                algorithms=algorithms,
                audience=s.audience,
                issuer=s.issuer,
                leeway=s.leeway_seconds,
                options={"require": ["sub", "exp", "iat"]},
            )
        except jwt.PyJWKClientConnectionError as exc:
            raise Problem(503, "Service unavailable", "the issuer's keys cannot be read") from exc
        except jwt.PyJWTError as exc:
            raise _unauthorized(f"invalid token: {exc}") from exc
        if claims["exp"] - claims["iat"] > s.max_lifetime_seconds:
            raise _unauthorized(f"invalid token: lives longer than {s.max_lifetime_seconds} s")
        roles = claims.get("roles", [])
        if not isinstance(roles, list):
            raise _unauthorized("invalid token: roles must be a list")
        return Principal(subject=str(claims["sub"]), roles=frozenset(map(str, roles)))

    async def _key_of(self, token: str) -> tuple[Any, list[str]]:
        s = self.settings
        if self._jwks is not None:
            # Blocking (urllib) on a cache miss: off the event loop.
            jwk = await asyncio.to_thread(self._jwks.get_signing_key_from_jwt, token)
            if jwk.algorithm_name not in s.jwks_algorithms:
                raise jwt.InvalidAlgorithmError(f"{jwk.algorithm_name} is not accepted")
            return jwk.key, [jwk.algorithm_name]
        if s.keys:
            kid = jwt.get_unverified_header(token).get("kid")
            if not isinstance(kid, str) or kid not in s.keys:
                raise jwt.InvalidKeyError("the token names no known key (kid)")
            return s.keys[kid].get_secret_value(), [s.algorithm]
        return s.secret.get_secret_value(), [s.algorithm]
