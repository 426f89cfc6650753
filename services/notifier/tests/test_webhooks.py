"""Webhook bodies, signatures, outcomes and endpoint rules (the HTTP round trip itself is in
tests/integration/test_notifier_webhooks.py, against a real server)."""

import hashlib
import hmac
import json

import httpx
import pytest

from rinnovo.notifier.channels.webhook import body, classify
from rinnovo.notifier.domain.compose import compose
from rinnovo.notifier.domain.delivery import Refused, RetryLater, Sent
from rinnovo.notifier.domain.endpoints import InvalidEndpoint, check_events, check_url
from rinnovo.notifier.domain.signing import signature, verify
from rinnovo.testing.notifier_samples import TOTAL, samples


def test_the_body_carries_the_message_in_machine_terms() -> None:
    sample = samples("en")[0]
    message = compose(sample.event)
    assert message is not None
    document = json.loads(body(message, "n-1"))
    assert document["id"] == "n-1"
    assert document["type"] == "order_confirmed"
    assert document["cause"]["event_id"] == str(sample.event.event_id)
    assert document["customer"]["customer_id"] == "c-rossi"
    assert document["data"]["amount_cents"] == TOTAL  # integers for machines
    assert document["data"]["instructions"]["due_date"] == "2027-03-15"


def test_the_signature_is_an_hmac_of_timestamp_dot_body() -> None:
    secret, body_bytes = "s3cret-s3cret-s3cret", b'{"a":1}'
    expected = hmac.new(secret.encode(), b"1700000000." + body_bytes, hashlib.sha256).hexdigest()
    header = signature(secret, 1700000000, body_bytes)
    assert header == f"sha256={expected}"
    assert verify(secret, "1700000000", body_bytes, header, now=1700000100)
    assert not verify(secret, "1700000000", body_bytes + b" ", header, now=1700000100)
    assert not verify(secret, "1700000000", body_bytes, header, now=1700000000 + 301)
    assert not verify("another-secret-entirely", "1700000000", body_bytes, header, now=1700000000)


@pytest.mark.parametrize(
    ("status", "headers", "kind"),
    [
        (200, {}, Sent),
        (204, {}, Sent),
        (500, {}, RetryLater),
        (503, {}, RetryLater),
        (429, {"Retry-After": "120"}, RetryLater),
        (408, {}, RetryLater),
        (400, {}, Refused),
        (401, {}, Refused),
        (410, {}, Refused),
        (302, {"Location": "https://elsewhere.example"}, Refused),
    ],
)
def test_http_outcomes(status: int, headers: dict[str, str], kind: type) -> None:
    outcome = classify(httpx.Response(status, headers=headers))
    assert isinstance(outcome, kind)
    assert outcome.status_code == status
    if status == 429:
        assert isinstance(outcome, RetryLater) and outcome.after is not None
        assert outcome.after.total_seconds() == 120


@pytest.mark.parametrize(
    ("url", "plain_http_allowed", "ok"),
    [
        ("https://crm.example.it/hook", False, True),
        ("http://127.0.0.1:8080/hook", False, True),
        ("http://localhost/hook", False, True),
        ("http://crm.example.it/hook", False, False),
        ("http://crm.example.it/hook", True, True),
        ("ftp://crm.example.it/hook", True, False),
        ("https://user:pw@crm.example.it/hook", False, False),
        ("/relative", False, False),
    ],
)
def test_endpoint_urls(url: str, plain_http_allowed: bool, ok: bool) -> None:
    if ok:
        assert check_url(url, plain_http_allowed) == url
    else:
        with pytest.raises(InvalidEndpoint):
            check_url(url, plain_http_allowed)


def test_endpoint_events_are_known_message_types() -> None:
    assert check_events(["b", "a", "a"], {"a", "b"}) == ("a", "b")
    assert check_events(["*"], {"a"}) == ("*",)
    with pytest.raises(InvalidEndpoint, match="unknown"):
        check_events(["nope"], {"a"})
    with pytest.raises(InvalidEndpoint):
        check_events([], {"a"})
