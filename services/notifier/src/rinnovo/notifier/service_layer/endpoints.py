"""Integrators' webhook endpoints: registered, listed, removed (deactivated, so their
deliveries stay explainable and pending ones fail instead of going to a URL nobody vouches
for)."""

import secrets
import uuid

from rinnovo.notifier.domain.endpoints import Endpoint, check_destination, check_events
from rinnovo.notifier.domain.messages import Template
from rinnovo.notifier.service_layer.context import Context
from rinnovo.runtime.errors import NotFound

MESSAGE_TYPES = {t.value for t in Template}


async def register_endpoint(
    ctx: Context, url: str, events: list[str], description: str, secret: str | None
) -> Endpoint:
    """Raises ``InvalidEndpoint`` (a malformed URL, one not reaching a public address, not
    https). Without a secret, one is generated (shown once)."""
    endpoint = Endpoint(
        endpoint_id=str(uuid.uuid4()),
        url=check_destination(url, ctx.allow_plain_http, ctx.egress),
        secret=secret or secrets.token_urlsafe(32),
        events=check_events(events, MESSAGE_TYPES),
        description=description,
        active=True,
        created_at=ctx.clock.now(),
    )
    await ctx.endpoints.add(endpoint)
    return endpoint


async def list_endpoints(ctx: Context) -> list[Endpoint]:
    return await ctx.endpoints.all()


async def remove_endpoint(ctx: Context, endpoint_id: str) -> None:
    if not await ctx.endpoints.deactivate(endpoint_id):
        raise NotFound(f"no endpoint {endpoint_id!r}")
