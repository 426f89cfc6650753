"""Bearer tokens: which keys a deployment may start with, how long a token may live, keys
rotated by ``kid``, and an identity provider's RS256/ES256 keys read from a JWKS URL served
here."""

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import SecretStr

from rinnovo.runtime.auth import DEV_SECRET, Auth, AuthSettings, Principal, issue_token
from rinnovo.runtime.clock import SystemClock
from rinnovo.runtime.problems import Problem
from rinnovo.runtime.safety import InsecureSetting
from rinnovo.runtime.service import ServiceRuntime
from rinnovo.runtime.settings import ServiceSettings

K1, K2 = "k" * 32, "q" * 40


async def verify(auth: Auth, token: str) -> Principal:
    return await auth.verify(HTTPAuthorizationCredentials(scheme="Bearer", credentials=token))


async def refused(auth: Auth, token: str, status: int = 401) -> str:
    with pytest.raises(Problem) as problem:
        await verify(auth, token)
    assert problem.value.status == status
    return problem.value.detail


# ---- the keys a deployment may start with ----


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({}, "RINNOVO_AUTH_SECRET"),
        ({"secret": DEV_SECRET}, "RINNOVO_AUTH_SECRET"),
        ({"secret": "short-but-not-default"}, "RINNOVO_AUTH_SECRET"),
        ({"keys": {"2026-01": K1, "2026-02": "too-short"}}, "RINNOVO_AUTH_KEYS[2026-02]"),
        ({"jwks_url": "http://idp.example/jwks"}, "RINNOVO_AUTH_JWKS_URL"),
        ({"jwks_url": "https://idp.example/jwks", "keys": {"a": K1}}, "RINNOVO_AUTH_KEYS"),
    ],
)
def test_a_default_or_short_key_is_refused_outside_development(
    settings: dict[str, Any], named: str
) -> None:
    with pytest.raises(InsecureSetting) as refusal:
        AuthSettings.model_validate(settings).refuse_unsafe(dev_mode=False)
    assert refusal.value.setting == named


def test_development_mode_allows_the_default_and_real_keys_pass_anywhere() -> None:
    AuthSettings().refuse_unsafe(dev_mode=True)
    AuthSettings(secret=SecretStr(K1)).refuse_unsafe(dev_mode=False)
    AuthSettings.model_validate({"keys": {"a": K1, "b": K2}}).refuse_unsafe(dev_mode=False)
    AuthSettings(jwks_url="https://idp.example/jwks").refuse_unsafe(dev_mode=False)


def test_a_service_runtime_refuses_the_default_key_outside_development(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("RINNOVO_AUTH_SECRET", raising=False)
    with pytest.raises(InsecureSetting, match="RINNOVO_AUTH_SECRET"):
        ServiceRuntime("probe", ServiceSettings(dev_mode=False), SystemClock())
    monkeypatch.setenv("RINNOVO_AUTH_SECRET", K1)
    ServiceRuntime("probe", ServiceSettings(dev_mode=False), SystemClock())


# ---- lifetime ----


def hs256(claims: dict[str, Any], key: str = DEV_SECRET, kid: str | None = None) -> str:
    base = {"sub": "c1", "roles": ["customer"], "iss": "rinnovo", "aud": "rinnovo-api"}
    headers = {"kid": kid} if kid else None
    return jwt.encode(base | claims, key, algorithm="HS256", headers=headers)


async def test_a_token_must_say_when_it_was_issued_and_live_at_most_a_day() -> None:
    auth = Auth(AuthSettings())
    now = datetime.now(UTC)
    ok = await verify(auth, hs256({"iat": now, "exp": now + timedelta(hours=24)}))
    assert ok == Principal("c1", frozenset({"customer"}))
    thirty_years = hs256({"iat": now, "exp": now + timedelta(days=365 * 30)})
    assert "lives longer than 86400" in await refused(auth, thirty_years)
    assert "iat" in await refused(auth, hs256({"exp": now + timedelta(hours=1)}))
    later = hs256({"iat": now + timedelta(hours=1), "exp": now + timedelta(hours=2)})
    await refused(auth, later)  # issued in the future


# ---- rotation by kid ----


async def test_keys_are_rotated_by_kid() -> None:
    both = AuthSettings.model_validate({"keys": {"old": K1, "new": K2}})
    auth = Auth(both)
    now = datetime.now(UTC)
    claims = {"iat": now, "exp": now + timedelta(hours=1)}
    await verify(auth, hs256(claims, K1, kid="old"))
    await verify(auth, hs256(claims, K2, kid="new"))
    await verify(auth, issue_token(both, "c1", {"customer"}))  # minted with the last key
    assert jwt.get_unverified_header(issue_token(both, "c1", set()))["kid"] == "new"
    assert "kid" in await refused(auth, hs256(claims, K1, kid="other"))
    assert "kid" in await refused(auth, hs256(claims, DEV_SECRET))  # no kid: not the secret
    await refused(auth, hs256(claims, K1, kid="new"))  # a kid with another key's signature
    retired = Auth(AuthSettings.model_validate({"keys": {"new": K2}}))
    await refused(retired, hs256(claims, K1, kid="old"))


# ---- an identity provider's public keys ----


class Jwks:
    """An identity provider's JWKS endpoint on 127.0.0.1, counting its readers."""

    def __init__(self, keys: list[dict[str, Any]]) -> None:
        self.document = json.dumps({"keys": keys}).encode()
        self.reads = 0
        jwks = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                jwks.reads += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(jwks.document)

            def log_message(self, *_: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/.well-known/jwks.json"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def public_jwk(private: Any, kid: str, alg: str) -> dict[str, Any]:
    jwk: dict[str, Any] = json.loads(
        jwt.algorithms.get_default_algorithms()[alg].to_jwk(private.public_key())
    )
    return jwk | {"kid": kid, "use": "sig", "alg": alg}


RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="module")
def jwks() -> Iterator[Jwks]:
    server = Jwks([public_jwk(RSA_KEY, "rsa-1", "RS256"), public_jwk(EC_KEY, "ec-1", "ES256")])
    yield server
    server.close()


def idp_token(private: Any, alg: str, kid: str, **claims: Any) -> str:
    now = datetime.now(UTC)
    base = {
        "sub": "c9",
        "roles": ["customer"],
        "iss": "https://idp.example",
        "aud": "rinnovo-api",
        "iat": now,
        "exp": now + timedelta(minutes=15),
    }
    return jwt.encode(base | claims, private, algorithm=alg, headers={"kid": kid})


async def test_an_identity_providers_rs256_and_es256_tokens_are_checked_with_its_jwks(
    jwks: Jwks,
) -> None:
    settings = AuthSettings(jwks_url=jwks.url, issuer="https://idp.example")
    auth = Auth(settings)
    assert (await verify(auth, idp_token(RSA_KEY, "RS256", "rsa-1"))).subject == "c9"
    assert (await verify(auth, idp_token(EC_KEY, "ES256", "ec-1"))).subject == "c9"
    reads = jwks.reads
    await verify(auth, idp_token(RSA_KEY, "RS256", "rsa-1"))
    assert jwks.reads == reads  # the key set is cached

    impostor = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    await refused(auth, idp_token(impostor, "RS256", "rsa-1"))
    await refused(auth, idp_token(EC_KEY, "ES256", "rsa-1"))  # another key's kid
    await refused(auth, idp_token(RSA_KEY, "RS256", "unknown"))
    await refused(auth, hs256({"iat": datetime.now(UTC)}, K1, kid="rsa-1"))  # HS256 refused
    await refused(auth, idp_token(RSA_KEY, "RS256", "rsa-1", iss="rinnovo"))
    with pytest.raises(ValueError, match="identity provider"):
        issue_token(settings, "c9", {"customer"})


async def test_an_unreachable_jwks_is_a_503_not_a_401(jwks: Jwks) -> None:
    gone = Jwks([])
    url = gone.url
    gone.close()
    auth = Auth(AuthSettings(jwks_url=url, issuer="https://idp.example"))
    await refused(auth, idp_token(RSA_KEY, "RS256", "rsa-1"), status=503)
