"""The payments API: customers' payments and stored methods, the provider callbacks, the
hosted-checkout link, and the operators' statements and review items.

Thin: parse, call the use case, shape the answer.
"""

from typing import Annotated, Any, Literal, TypeVar

import structlog
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse

from rinnovo.payments.adapters.statement_formats import StatementFormats
from rinnovo.payments.domain.reviews import Action, ReviewStatus
from rinnovo.payments.domain.statements import InvalidStatement, Statement
from rinnovo.payments.entrypoints.schemas import (
    ImportOut,
    MethodOut,
    PaymentOut,
    ResolveIn,
    ReviewOut,
    StoredMethodIn,
    StoredMethodOut,
)
from rinnovo.payments.handlers import PaymentsApp
from rinnovo.payments.methods.base import BadCallback
from rinnovo.runtime.auth import Auth, Principal
from rinnovo.runtime.problems import COMMON_RESPONSES, Problem

log = structlog.get_logger(__name__)
T = TypeVar("T")

MAX_STATEMENT_BYTES = 20 * 1024 * 1024
MAX_CALLBACK_BYTES = 512 * 1024

ERRORS = COMMON_RESPONSES
TOO_LARGE: dict[int | str, dict[str, Any]] = {413: {"description": "The body is too large"}}


def statement_body(formats: StatementFormats) -> dict[str, Any]:
    content = {
        media_type: {"schema": {"type": "string", "description": description}}
        for media_type, description in formats.media_types.items()
    }
    return {
        "requestBody": {
            "required": True,
            "description": "The statement file as it came from the bank.",
            "content": content,
        }
    }


def read_statement(formats: StatementFormats, data: bytes, content_type: str) -> Statement:
    """Validate the whole file first: a file with a problem imports nothing."""
    fmt = formats.for_media_type(content_type)
    if fmt is None:
        accepted = ", ".join(formats.media_types)
        raise Problem(415, "Unsupported statement format", f"send the file as one of {accepted}")
    try:
        return fmt.parse(data)
    except InvalidStatement as exc:
        errors = [{"field": p.where, "message": p.message} for p in exc.problems[:50]]
        raise Problem(422, "Invalid statement", str(exc)[:2000], errors=errors) from exc


def customer_router(app: PaymentsApp, auth: Auth) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["customer area"], responses=ERRORS)
    Customer = Annotated[Principal, Depends(auth.customer)]

    @router.get("/payments", summary="My payments (of one order), with how to pay them")
    async def my_payments(me: Customer, order_id: str | None = None) -> list[PaymentOut]:
        return [PaymentOut.of(p) for p in await app.payments_of(me.subject, order_id)]

    @router.get("/payment-methods", summary="How one can pay, and how long registration takes")
    async def methods(me: Customer) -> list[MethodOut]:
        return [MethodOut.of(m) for m in app.offered_methods()]

    @router.get("/stored-methods", summary="My stored card or SEPA mandate")
    async def my_stored(me: Customer) -> list[StoredMethodOut]:
        return [StoredMethodOut.of(s) for s in await app.stored_methods_of(me.subject)]

    @router.put(
        "/stored-methods/{method}",
        summary="Store the card or SEPA mandate automatic renewal charges",
        description="The card or mandate is first saved with the provider (a setup intent in "
        "the browser); this records the provider's references for later charges.",
    )
    async def store(method: str, body: StoredMethodIn, me: Customer) -> StoredMethodOut:
        details = body.model_dump()
        return StoredMethodOut.of(await app.store_method(me.subject, method, details, me.subject))

    return router


def public_router(app: PaymentsApp) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["payment pages and providers"], responses=ERRORS)

    @router.get(
        "/payments/{payment_id}/checkout",
        summary="Go to the provider's page to pay (the link in the instructions)",
        status_code=303,
        response_class=RedirectResponse,
    )
    async def checkout(payment_id: str) -> RedirectResponse:
        url = await app.checkout_url(payment_id)
        return RedirectResponse(url, status_code=303)

    @router.post(
        "/providers/{provider}/callback",
        summary="A payment provider's signed notification",
        responses={
            400: {"description": "Not genuine: bad signature, or signed too long ago"},
            **TOO_LARGE,
        },
    )
    async def callback(provider: str, request: Request) -> dict[str, str]:
        body = await request.body()
        if len(body) > MAX_CALLBACK_BYTES:
            raise Problem(413, "Too large")
        try:
            outcome = await app.provider_callback(provider, body, request.headers)
        except BadCallback as exc:
            client = request.client.host if request.client else None
            log.warning("callback refused", provider=provider, reason=str(exc), client=client)
            raise Problem(400, "Callback refused", str(exc)) from exc
        return {"outcome": outcome}

    return router


def admin_router(app: PaymentsApp, auth: Auth, formats: StatementFormats) -> APIRouter:
    router = APIRouter(prefix="/v1/admin", tags=["operators"], responses=ERRORS)
    Admin = Annotated[Principal, Depends(auth.admin)]

    @router.post(
        "/statements",
        summary="Import a bank statement: camt.053/camt.054 (application/xml), CSV (text/csv) "
        "or MT940 (application/x-mt940)",
        description="The body is the file. It is validated whole first: a file that cannot be "
        "trusted (not the format, a value that is not of its type, an amount above the bound) is "
        "refused with 422 naming the line or element of each problem, and nothing is imported. "
        "Then each credit is matched by the order number in its remittance text and by amount; "
        "a credit that cannot be reconciled (another currency, a fraction of a cent) opens a "
        "review item and the rest is imported. The answer says what happened to each entry. "
        "Importing a file again changes nothing.",
        responses={**TOO_LARGE, 415: {"description": "Not a statement format loaded here"}},
        openapi_extra=statement_body(formats),
    )
    async def import_statement(request: Request, me: Admin) -> ImportOut:
        data = await request.body()
        if len(data) > MAX_STATEMENT_BYTES:
            raise Problem(413, "Too large", f"at most {MAX_STATEMENT_BYTES} bytes")
        statement = read_statement(formats, data, request.headers.get("content-type", ""))
        result = await app.import_statement(statement, me.subject)
        log.info("statement imported", **result.counts())
        return ImportOut.of(result)

    @router.get("/reviews", summary="Money waiting for an operator")
    async def reviews(
        _: Admin, status: Annotated[Literal["open", "resolved", "all"], Query()] = "open"
    ) -> list[ReviewOut]:
        wanted = None if status == "all" else ReviewStatus(status)
        return [ReviewOut.of(r) for r in await app.review_items(wanted)]

    @router.post("/reviews/{review_id}/resolve", summary="Register, refund or dismiss")
    async def resolve(review_id: str, body: ResolveIn, me: Admin) -> ReviewOut:
        item = await app.resolve_review(
            review_id, Action(body.action), me.subject, body.note, body.order_number
        )
        return ReviewOut.of(item)

    @router.get("/payments", summary="The payment of an order, by its number")
    async def payment(_: Admin, order_number: str) -> PaymentOut:
        found = await app.payments.by_order_number(order_number)
        if found is None:
            raise Problem(404, "Not found", f"no payment of order {order_number}")
        return PaymentOut.of(found.value)

    @router.put(
        "/customers/{customer_id}/stored-methods/{method}",
        summary="Store a customer's card or SEPA mandate (e.g. brought from another system)",
    )
    async def store(
        customer_id: str, method: str, body: StoredMethodIn, me: Admin
    ) -> StoredMethodOut:
        details = body.model_dump()
        return StoredMethodOut.of(await app.store_method(customer_id, method, details, me.subject))

    return router
