"""Webhook signatures: HMAC-SHA256 over ``<timestamp>.<body>`` with the endpoint's secret.

The timestamp is signed with the body, so a captured request cannot be replayed later with a
new timestamp; receivers reject timestamps too far from their clock.
"""

import hashlib
import hmac

SCHEME = "sha256"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Rinnovo-Signature`` header value: ``sha256=<hex digest>``."""
    signed = str(timestamp).encode() + b"." + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"{SCHEME}={digest}"


def verify(
    secret: str, timestamp: str, body: bytes, header: str, now: int, tolerance: int = 300
) -> bool:
    """What a receiver does; kept here as the reference for the README's recipe."""
    try:
        sent_at = int(timestamp)
    except ValueError:
        return False
    if abs(now - sent_at) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, sent_at, body), header)
