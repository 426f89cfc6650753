"""Webhooks reach public addresses only: refused when registered if the URL says otherwise,
and at every attempt after resolving the name, connecting to the address checked. Malformed
URLs are a 422, never a 500.

The app is not started: a registration that reached the database would fail the test.
"""

import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from httpx import ASGITransport, AsyncClient

from rinnovo.notifier.bootstrap import NotifierSettings, build
from rinnovo.notifier.channels.base import Delivery
from rinnovo.notifier.channels.webhook import WebhookChannel
from rinnovo.notifier.domain.delivery import Refused, Sent
from rinnovo.notifier.domain.egress import EgressPolicy
from rinnovo.notifier.domain.endpoints import Endpoint, InvalidEndpoint, check_url
from rinnovo.notifier.domain.notifications import Audience, Target
from rinnovo.runtime.auth import issue_token

BUILT = build(NotifierSettings())
SECRET = "whsec-egress-0123456789abcdef"

INTERNAL = [
    "https://169.254.169.254/latest/meta-data/",
    "http://127.0.0.1:8003/v1/admin",
    "http://localhost:27017/",
    "https://[::1]:9092/",
    "https://10.0.0.5/hook",
    "https://172.16.3.4/hook",
    "https://192.168.1.1/hook",
    "https://100.64.0.1/hook",
    "https://0.0.0.0:8001/",
    "https://[::ffff:127.0.0.1]/hook",
    "https://[fd00:ec2::254]/latest",
    "https://metadata.google.internal/computeMetadata/v1/",
    "https://db.cluster.local/hook",
]
MALFORMED = ["https://[zz]/", "https://example.com:abc/", "https://example.com:99999/"]


@pytest.mark.parametrize("url", INTERNAL + MALFORMED)
async def test_internal_and_malformed_urls_are_refused_at_registration(url: str) -> None:
    token = issue_token(BUILT.runtime.auth.settings, "ops", {"admin"})
    async with AsyncClient(
        transport=ASGITransport(BUILT.app),
        base_url="http://notifier",
        headers={"Authorization": f"Bearer {token}"},
    ) as ops:
        answer = await ops.post("/v1/admin/webhooks", json={"url": url, "events": ["*"]})
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in answer.json()["errors"]] == ["url"]


@pytest.mark.parametrize("url", MALFORMED)
def test_a_malformed_url_is_an_invalid_endpoint(url: str) -> None:
    with pytest.raises(InvalidEndpoint):
        check_url(url, allow_plain_http=False)


def test_public_addresses_and_names_pass() -> None:
    policy = EgressPolicy()
    for url in ("https://crm.example.it/hook", "https://93.184.216.34/x", "https://[2a00::1]/"):
        policy.check_url(url)
    EgressPolicy(allow_loopback=True).check_url("http://localhost:8080/hook")


def test_the_secret_is_not_in_an_endpoints_repr() -> None:
    endpoint = Endpoint("e1", "https://x.example", SECRET, ("*",), "", True, datetime.now(UTC))
    assert SECRET not in repr(endpoint)


# ---- at each attempt ----


class Receiver:
    """An HTTP endpoint on 127.0.0.1 that keeps the Host header of each request."""

    def __init__(self) -> None:
        self.hosts: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                receiver.hosts.append(self.headers["Host"])
                self.rfile.read(int(self.headers["Content-Length"]))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_port
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.server.shutdown()
    server.server.server_close()


class Directory:
    def __init__(self, url: str) -> None:
        self.endpoint = Endpoint("e1", url, SECRET, ("*",), "", True, datetime.now(UTC))

    async def get(self, endpoint_id: str) -> Endpoint | None:
        return self.endpoint

    async def subscribed_to(self, template: str) -> list[Endpoint]:
        return [self.endpoint]


def delivery(url: str) -> Delivery:
    return Delivery(
        notification_id="n-1",
        template="order_confirmed",
        target=Target(key="e1", address=url, audience=Audience.INTEGRATOR),
        recipient_name="",
        locale="it",
        content={"body": "{}"},
        attempt=1,
    )


@pytest.fixture
def resolver(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """``hooks.test`` resolves to 127.0.0.1 here; each lookup is counted."""
    lookups: list[str] = []
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        lookups.append(host)
        return real("127.0.0.1" if host == "hooks.test" else host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return lookups


async def test_a_name_resolving_to_loopback_is_refused_when_sent(
    receiver: Receiver, resolver: list[str]
) -> None:
    url = f"http://hooks.test:{receiver.port}/hook"
    channel = WebhookChannel(Directory(url), 30.0, EgressPolicy())
    try:
        outcome = await channel.send(delivery(url))
    finally:
        await channel.close()
    assert outcome == Refused("the endpoint's address is not a public one")
    assert receiver.hosts == []
    assert resolver == ["hooks.test"]


async def test_the_connection_goes_to_the_address_that_was_checked(
    receiver: Receiver, resolver: list[str]
) -> None:
    """``hooks.test`` exists only in the channel's own lookup: reaching the receiver means the
    connection went to the address that lookup checked, with the name kept for the server."""
    url = f"http://hooks.test:{receiver.port}/hook"
    channel = WebhookChannel(Directory(url), 30.0, EgressPolicy(allow_loopback=True))
    try:
        outcome = await channel.send(delivery(url))
    finally:
        await channel.close()
    assert isinstance(outcome, Sent), outcome
    assert receiver.hosts == [f"hooks.test:{receiver.port}"]
    assert resolver == ["hooks.test"]


async def test_a_literal_private_address_is_refused_when_sent(receiver: Receiver) -> None:
    url = f"http://127.0.0.1:{receiver.port}/hook"
    channel = WebhookChannel(Directory(url), 30.0, EgressPolicy())
    try:
        assert isinstance(await channel.send(delivery(url)), Refused)
    finally:
        await channel.close()
    assert receiver.hosts == []
