"""Signed HTTP POSTs to the endpoints integrators registered (see the README to verify them).

Headers of every request:
- ``X-Rinnovo-Delivery``: the notification id, the same on every attempt (deduplicate on it);
- ``X-Rinnovo-Event``: the message type; ``X-Rinnovo-Attempt``: 1, 2, ...;
- ``X-Rinnovo-Timestamp``: Unix seconds when this attempt was signed;
- ``X-Rinnovo-Signature``: ``sha256=`` + hex HMAC-SHA256 of ``<timestamp>.<body>``.
"""

import json
import time
from collections.abc import Sequence
from datetime import timedelta

import httpx

from rinnovo.notifier.channels.base import ChannelContext, Delivery, EndpointDirectory
from rinnovo.notifier.channels.guarded_transport import GuardedTransport
from rinnovo.notifier.domain.delivery import Outcome, Refused, RetryLater, Sent
from rinnovo.notifier.domain.egress import EgressPolicy, ForbiddenDestination
from rinnovo.notifier.domain.messages import Message, jsonable
from rinnovo.notifier.domain.notifications import Audience, Target
from rinnovo.notifier.domain.signing import signature

RETRYABLE_4XX = {408, 409, 425, 429}
MAX_RETRY_AFTER = 3600


def body(message: Message, notification_id: str) -> str:
    """The JSON every endpoint receives for a message: stable keys, amounts in cents."""
    r, c = message.recipient, message.cause
    document = {
        "id": notification_id,
        "type": message.template.value,
        "occurred_at": c.occurred_at.isoformat(),
        "customer": {"customer_id": r.customer_id, "name": r.name, "email": r.email},
        "locale": r.locale,
        "cause": {"event_id": c.event_id, "type": c.type, "aggregate_id": c.aggregate_id},
        "data": jsonable(message.facts),
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def classify(response: httpx.Response) -> Outcome:
    """2xx delivered; 5xx and a few 4xx (timeout, too many requests) later; any other 4xx
    means the endpoint refuses this request, and the same request will be refused again."""
    code = response.status_code
    if 200 <= code < 300:
        return Sent(detail=f"HTTP {code}", status_code=code)
    reason = f"HTTP {code} {response.reason_phrase}".strip()
    if code >= 500 or code in RETRYABLE_4XX:
        return RetryLater(reason, code, _retry_after(response))
    return Refused(reason, code)


def _retry_after(response: httpx.Response) -> timedelta | None:
    value = response.headers.get("Retry-After", "")
    if value.isdigit():
        return timedelta(seconds=min(int(value), MAX_RETRY_AFTER))
    return None


class WebhookChannel:
    name = "webhook"

    def __init__(
        self,
        endpoints: EndpointDirectory,
        timeout_seconds: float,
        egress: EgressPolicy,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        """``transport`` replaces the network reached through ``egress`` (a script, in tests)."""
        self.endpoints = endpoints
        self._client = httpx.AsyncClient(
            transport=transport or GuardedTransport(egress),
            timeout=timeout_seconds,
            follow_redirects=False,  # a redirect would carry the signed body somewhere else
            headers={"User-Agent": "rinnovo-notifier/1"},
        )

    async def targets(self, message: Message) -> Sequence[Target]:
        return [
            Target(key=e.endpoint_id, address=e.url, audience=Audience.INTEGRATOR)
            for e in await self.endpoints.subscribed_to(message.template.value)
        ]

    def prepare(self, message: Message, notification_id: str, target: Target) -> dict[str, str]:
        return {"body": body(message, notification_id)}

    async def send(self, delivery: Delivery) -> Outcome:
        endpoint = await self.endpoints.get(delivery.target.key)
        if endpoint is None or not endpoint.active:
            return Refused("the endpoint was removed")
        content = delivery.content["body"].encode()
        # Wall-clock time, not the service clock: receivers compare it with their own.
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "X-Rinnovo-Delivery": delivery.notification_id,
            "X-Rinnovo-Event": delivery.template,
            "X-Rinnovo-Attempt": str(delivery.attempt),
            "X-Rinnovo-Timestamp": str(timestamp),
            "X-Rinnovo-Signature": signature(endpoint.secret, timestamp, content),
        }
        try:
            response = await self._client.post(endpoint.url, content=content, headers=headers)
        except ForbiddenDestination:
            # Said the same whatever the address and port: nothing to learn about the inside.
            return Refused("the endpoint's address is not a public one")
        except (httpx.InvalidURL, ValueError):
            return Refused("the endpoint's URL cannot be used")
        except httpx.HTTPError as exc:
            return RetryLater(f"{type(exc).__name__}: {exc}")
        return classify(response)

    async def close(self) -> None:
        await self._client.aclose()


class WebhookPlugin:
    name = "webhook"
    description = "Signed HTTP POSTs to integrators' registered endpoints."

    def build(self, context: ChannelContext) -> WebhookChannel:
        s = context.settings
        egress = EgressPolicy(allow_loopback=s.webhook_allow_loopback)
        return WebhookChannel(context.endpoints, s.webhook_timeout_seconds, egress)


plugin = WebhookPlugin()
