"""The card or SEPA mandate a customer leaves for automatic renewal to charge."""

from collections.abc import Mapping
from typing import Any

from rinnovo.payments.methods.base import ChargesStoredMethod, StoredMethod
from rinnovo.payments.service_layer.context import Context
from rinnovo.runtime.changes import Decision
from rinnovo.runtime.errors import Invalid


def stored_method_id(customer_id: str, method: str) -> str:
    """One stored method per customer and method: storing another replaces it."""
    return f"{customer_id}:{method}"


async def store_method(
    ctx: Context, customer_id: str, method: str, details: Mapping[str, Any], by: str
) -> StoredMethod:
    if not isinstance(ctx.methods.get(method), ChargesStoredMethod):
        chargeable = ctx.methods.chargeable()
        raise Invalid("method", f"{method!r} cannot be stored; choose one of {chargeable}")
    stored = StoredMethod(
        customer_id=customer_id,
        method=method,
        provider_customer=str(details["provider_customer"]),
        provider_method=str(details["provider_method"]),
        label=str(details["label"]),
        registered_at=ctx.now(),
        registered_by=by,
        mandate_reference=details.get("mandate_reference"),
    )
    id_ = stored_method_id(customer_id, method)
    if await ctx.stored_methods.create(id_, stored) is None:
        await ctx.stored_methods.change(id_, lambda _: Decision(stored))
    return stored


async def stored_methods_of(ctx: Context, customer_id: str) -> list[StoredMethod]:
    found = await ctx.stored_methods.find({"customer_id": customer_id}, sort=[("_id", 1)])
    return [s.value for s in found]
