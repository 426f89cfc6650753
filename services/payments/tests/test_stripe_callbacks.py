"""Stripe callbacks: genuine ones are read; forged, stale or future-dated ones are refused."""

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import pytest

from rinnovo.payments.adapters.stripe_gateway import StripeGateway
from rinnovo.payments.methods.base import BadCallback, NoticeKind

SECRET = "whsec_unit"
NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)
GATEWAY = StripeGateway(api_key="sk_test_unit", webhook_secret=SECRET)


def event(kind: str, obj: dict[str, object]) -> bytes:
    return json.dumps({"id": "evt_1", "type": kind, "data": {"object": obj}}).encode()


def signature(body: bytes, at: datetime, secret: str = SECRET) -> dict[str, str]:
    ts = int(at.timestamp())
    mac = hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    return {"stripe-signature": f"t={ts},v1={mac}"}


SESSION = {
    "object": "checkout.session",
    "client_reference_id": "pay-o1",
    "payment_status": "paid",
    "amount_total": 12200,
    "payment_intent": "pi_1",
}


def test_a_paid_checkout_session_is_read() -> None:
    body = event("checkout.session.completed", SESSION)
    notice = GATEWAY.read_callback(body, signature(body, NOW), NOW)
    assert (notice.kind, notice.payment_id, notice.reference, notice.amount_cents) == (
        NoticeKind.PAID,
        "pay-o1",
        "pi_1",
        12200,
    )


@pytest.mark.parametrize(
    ("headers_for", "why"),
    [
        (lambda b: signature(b, NOW, secret="whsec_other"), "expected signature"),
        (lambda b: signature(b, NOW - timedelta(minutes=6)), "tolerance"),
        (lambda b: signature(b, NOW + timedelta(minutes=6)), "tolerance"),
        (lambda b: {}, "No Stripe-Signature"),
        (lambda b: {"stripe-signature": "garbage"}, "Unable to extract"),
    ],
)
def test_anything_not_genuine_and_recent_is_refused(headers_for: object, why: str) -> None:
    body = event("checkout.session.completed", SESSION)
    with pytest.raises(BadCallback, match=why):
        GATEWAY.read_callback(body, headers_for(body), NOW)  # type: ignore[operator]


def test_a_tampered_body_is_refused() -> None:
    body = event("checkout.session.completed", SESSION)
    tampered = body.replace(b"12200", b"1")
    with pytest.raises(BadCallback):
        GATEWAY.read_callback(tampered, signature(body, NOW), NOW)


def test_an_unpaid_session_and_other_events_are_ignored() -> None:
    for body in (
        event("checkout.session.completed", {**SESSION, "payment_status": "unpaid"}),
        event("customer.created", {"object": "customer"}),
    ):
        assert GATEWAY.read_callback(body, signature(body, NOW), NOW).kind is NoticeKind.IGNORED


def test_a_replay_with_a_fresh_timestamp_beside_the_signed_one_is_refused() -> None:
    """The SDK checks the signature with the first exact ``t``; the tolerance must look at that
    same one, not at a fresh ``t`` an attacker puts before it."""
    body = event("checkout.session.completed", SESSION)
    old = NOW - timedelta(days=3)
    signed = signature(body, old)["stripe-signature"]  # t=<old>,v1=<mac>
    v1 = signed.split(",v1=")[1]
    forged = f"v1={v1}, t={int(NOW.timestamp())},t={int(old.timestamp())}"
    with pytest.raises(BadCallback, match="tolerance"):
        GATEWAY.read_callback(body, {"stripe-signature": forged}, NOW)
