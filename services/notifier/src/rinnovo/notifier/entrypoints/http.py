"""The notifier's HTTP API. Thin: parse, call the use case, shape the answer.

Customers see their own e-mails only (anything else answers 404, as if it did not exist);
operators see every notification and delivery, and manage the webhook endpoints.
"""

from datetime import UTC, datetime
from typing import Annotated, Literal, TypeVar

from fastapi import APIRouter, Depends, Query, Response
from pydantic import AfterValidator

from rinnovo.notifier.entrypoints.schemas import (
    AdminNotificationDetailOut,
    AdminNotificationOut,
    EndpointIn,
    EndpointOut,
    NotificationDetailOut,
    NotificationOut,
    RegisteredEndpointOut,
)
from rinnovo.notifier.service_layer.context import Context
from rinnovo.notifier.service_layer.endpoints import (
    list_endpoints,
    register_endpoint,
    remove_endpoint,
)
from rinnovo.notifier.service_layer.history import (
    customer_history,
    customer_notification,
    notification,
    search_notifications,
)
from rinnovo.notifier.service_layer.ports import Search
from rinnovo.runtime.auth import Auth, Principal
from rinnovo.runtime.problems import COMMON_RESPONSES

T = TypeVar("T")

ERRORS = COMMON_RESPONSES
Limit = Annotated[int, Query(ge=1, le=200)]


def _in_utc(instant: datetime | None) -> datetime | None:
    """Stored instants are UTC; one that has no UTC equivalent (year 1 at +01:00) is refused."""
    if instant is None:
        return None
    try:
        return instant.astimezone(UTC) if instant.tzinfo else instant.replace(tzinfo=UTC)
    except OverflowError as exc:
        raise ValueError("out of range once in UTC") from exc


Before = Annotated[
    datetime | None,
    Query(description="Only those created before this instant (next page)."),
    AfterValidator(_in_utc),
]


def customer_router(ctx: Context, auth: Auth) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["customer area"], responses=ERRORS)
    Customer = Annotated[Principal, Depends(auth.customer)]

    @router.get("/notifications", summary="The messages sent to me, newest first")
    async def history(
        me: Customer, before: Before = None, limit: Limit = 50
    ) -> list[NotificationOut]:
        found = await customer_history(ctx, me.subject, before, limit)
        return [NotificationOut.of(n) for n in found]

    @router.get("/notifications/{notification_id}", summary="One of my messages, with its text")
    async def one(notification_id: str, me: Customer) -> NotificationDetailOut:
        found = await customer_notification(ctx, me.subject, notification_id)
        return NotificationDetailOut.of(found)

    return router


def admin_router(ctx: Context, auth: Auth) -> APIRouter:
    router = APIRouter(prefix="/v1/admin", tags=["operators"], responses=ERRORS)
    Admin = Annotated[Principal, Depends(auth.admin)]

    @router.get("/notifications", summary="Notifications and deliveries, newest first")
    async def search(
        _: Admin,
        customer_id: str | None = None,
        status: Literal["pending", "sent", "failed"] | None = None,
        channel: str | None = None,
        template: str | None = None,
        cause_event_id: str | None = None,
        endpoint_id: str | None = None,
        before: Before = None,
        limit: Limit = 50,
    ) -> list[AdminNotificationOut]:
        found = await search_notifications(
            ctx,
            Search(
                customer_id=customer_id,
                status=status,
                channel=channel,
                template=template,
                cause_event_id=cause_event_id,
                endpoint_id=endpoint_id,
                before=before,
                limit=limit,
            ),
        )
        return [AdminNotificationOut.of(n) for n in found]

    @router.get(
        "/notifications/{notification_id}",
        summary="One notification with its facts, content and every attempt",
    )
    async def one(notification_id: str, _: Admin) -> AdminNotificationDetailOut:
        return AdminNotificationDetailOut.of(await notification(ctx, notification_id))

    @router.post("/webhooks", status_code=201, summary="Register an integrator's endpoint")
    async def register(body: EndpointIn, _: Admin, response: Response) -> RegisteredEndpointOut:
        endpoint = await register_endpoint(
            ctx, body.url, body.events, body.description, body.secret
        )
        response.headers["Location"] = f"/v1/admin/webhooks/{endpoint.endpoint_id}"
        return RegisteredEndpointOut.of(endpoint)

    @router.get("/webhooks", summary="Registered endpoints (secrets are never shown again)")
    async def endpoints(_: Admin) -> list[EndpointOut]:
        return [EndpointOut.of(e) for e in await list_endpoints(ctx)]

    @router.delete(
        "/webhooks/{endpoint_id}",
        status_code=204,
        summary="Remove an endpoint: nothing more is sent to it, pending deliveries fail",
    )
    async def remove(endpoint_id: str, _: Admin) -> Response:
        await remove_endpoint(ctx, endpoint_id)
        return Response(status_code=204)

    return router
