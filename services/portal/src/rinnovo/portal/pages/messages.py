"""The e-mails sent to me, as the notifier keeps them, and the text of each."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from starlette.responses import Response

from rinnovo.portal.apis import CustomerApis
from rinnovo.portal.web import ID_PATTERN, Portal

MessageId = Annotated[str, Path(pattern=ID_PATTERN)]


def router(portal: Portal) -> APIRouter:
    routes = APIRouter()
    Apis = Annotated[CustomerApis, Depends(portal.apis)]

    @routes.get("/messages")
    async def messages(request: Request, apis: Apis) -> Response:
        return portal.pages.render(request, "messages.html", messages=await apis.messages())

    @routes.get("/messages/{message_id}")
    async def message(request: Request, message_id: MessageId, apis: Apis) -> Response:
        found = await apis.message(message_id)
        return portal.pages.render(request, "message.html", message=found)

    return routes
