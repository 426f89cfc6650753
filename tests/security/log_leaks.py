"""A failing request and a failing webhook delivery, logged as a service logs them.

Run as a process of its own by ``test_no_secrets_in_logs.py`` (logging is configured once
per process, as in a service): its stderr is the log to search.
"""

import asyncio
import json
from datetime import UTC, datetime
from typing import Annotated

import httpx
from fastapi import APIRouter, Depends
from pydantic import BaseModel

from rinnovo.notifier.channels.webhook import WebhookChannel
from rinnovo.notifier.domain.egress import EgressPolicy
from rinnovo.notifier.domain.endpoints import Endpoint
from rinnovo.notifier.domain.notifications import Audience, Notification, Target
from rinnovo.runtime.auth import Principal, issue_token
from rinnovo.runtime.clock import FixedClock, SystemClock
from rinnovo.runtime.logging import configure_logging
from rinnovo.runtime.service import ServiceRuntime
from rinnovo.runtime.settings import ServiceSettings
from rinnovo.testing.notifier import in_memory

SECRET = "whsec-leak-canary-0f1e2d3c4b5a6978"
NAME = "Ermenegilda Canarino"
EMAIL = "ermenegilda.canarino@example.it"
AT = datetime(2026, 3, 2, 9, tzinfo=UTC)


class Customer(BaseModel):
    name: str
    email: str


async def failing_request() -> str:
    """An admin's request whose handler fails while holding a secret and the body."""
    runtime = ServiceRuntime("probe", ServiceSettings(), SystemClock())
    router = APIRouter()
    Admin = Annotated[Principal, Depends(runtime.auth.admin)]

    @router.post("/v1/customers")
    async def add(customer: Customer, _: Admin) -> Customer:
        signing_secret = SECRET
        raise RuntimeError(f"the store is gone ({len(signing_secret)})")

    token = issue_token(runtime.auth.settings, "ops", {"admin"})
    app = runtime.http_app([router], title="probe")
    transport = httpx.ASGITransport(app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://probe") as client:
        answer = await client.post(
            "/v1/customers",
            json={"name": NAME, "email": EMAIL},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert answer.status_code == 500, answer.text
    return token


def explode(request: httpx.Request) -> httpx.Response:
    raise RuntimeError("the receiver's connection broke in an unexpected way")


async def failing_webhook() -> None:
    """A webhook attempt whose channel fails unexpectedly, holding the secret and the body,
    through the notifier's own delivery use case."""
    notifier = in_memory(FixedClock(AT), email=None)  # type: ignore[arg-type]
    endpoint = Endpoint("e1", "https://hooks.example.it/x", SECRET, ("*",), "", True, AT)
    await notifier.ctx.endpoints.add(endpoint)
    channel = WebhookChannel(
        notifier.ctx.endpoints, 5.0, EgressPolicy(), httpx.MockTransport(explode)
    )
    body = json.dumps({"customer": {"name": NAME, "email": EMAIL}})
    notification = Notification(
        notification_id="n-1",
        channel="webhook",
        template="order_confirmed",
        audience=Audience.INTEGRATOR,
        customer_id="c-1",
        locale="it",
        requested_locale="it",
        target=Target("e1", endpoint.url, Audience.INTEGRATOR),
        recipient_name=NAME,
        cause_event_id="ev-1",
        cause_type="orders.order.placed",
        cause_aggregate_id="o-1",
        cause_occurred_at=AT,
        correlation_id="corr-1",
        facts={"holder": {"name": NAME, "email": EMAIL}},
        content={"body": body},
        created_at=AT,
        next_attempt_at=AT,
    )
    await notifier.ctx.notifications.create(notification.notification_id, notification)
    assert await notifier.deliverer(webhook=channel).deliver_due("webhook") == 1
    await channel.close()


async def main() -> None:
    configure_logging("probe")
    token = await failing_request()
    await failing_webhook()
    print(token)


if __name__ == "__main__":
    asyncio.run(main())
