"""Integrators' webhook endpoints: where, which messages, and the secret that signs them."""

import ipaddress
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from rinnovo.notifier.domain.egress import EgressPolicy, ForbiddenDestination
from rinnovo.runtime.errors import Invalid

ALL = "*"


@dataclass(frozen=True)
class Endpoint:
    endpoint_id: str
    url: str
    secret: str = field(repr=False)
    events: tuple[str, ...]
    """Message types (templates) it receives; ``*`` for all."""
    description: str
    active: bool
    created_at: datetime

    def wants(self, template: str) -> bool:
        return self.active and (ALL in self.events or template in self.events)


class InvalidEndpoint(Invalid):
    """An endpoint an integrator cannot register (its field says why)."""


def check_url(url: str, allow_plain_http: bool) -> str:
    """Signed bodies carry customers' data: https, or plain http to this machine only
    (tests, a local relay) unless the deployment allows it."""
    try:
        parts = urlsplit(url)
        host, _ = parts.hostname, parts.port  # both raise on a malformed authority
    except ValueError as exc:
        raise InvalidEndpoint("url", f"is not a valid URL ({exc})") from exc
    if parts.scheme not in ("https", "http") or not host:
        raise InvalidEndpoint("url", "must be an absolute http(s) URL")
    if parts.username or parts.password:
        raise InvalidEndpoint("url", "must not carry credentials; the signature authenticates")
    if parts.scheme == "http" and not (allow_plain_http or _loopback(host)):
        raise InvalidEndpoint("url", "must use https")
    return url


def check_destination(url: str, allow_plain_http: bool, egress: EgressPolicy) -> str:
    """A URL an endpoint may be registered with: well formed, reaching a public address
    (``egress``), and over https unless plain http is allowed (``check_url``)."""
    check_url(url, allow_plain_http=True)  # well-formed first, then where it goes
    try:
        egress.check_url(url)
    except ForbiddenDestination as exc:
        raise InvalidEndpoint("url", f"must reach a public address: {exc}") from exc
    return check_url(url, allow_plain_http)


def check_events(events: list[str], known: set[str]) -> tuple[str, ...]:
    unknown = sorted(set(events) - known - {ALL})
    if not events:
        raise InvalidEndpoint("events", "name at least one message type, or *")
    if unknown:
        raise InvalidEndpoint("events", f"unknown message types: {', '.join(unknown)}")
    return tuple(sorted(set(events)))


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
