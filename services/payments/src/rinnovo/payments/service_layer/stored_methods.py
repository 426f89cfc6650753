"""The card or SEPA mandate a customer leaves for automatic renewal to charge.

A customer saves one through a setup we create with the provider and they confirm in the
browser; it is stored only when the provider, read back, confirms it saved a payment method
for the provider customer we made for them (``domain/setups.py``). Operators may bring one
from another system by its provider references.
"""

import uuid
from collections.abc import Mapping
from typing import Any

from rinnovo.payments.domain.setups import MethodSetup, NotConfirmed, check_confirmed
from rinnovo.payments.methods.base import (
    ChargesStoredMethod,
    SetsUpStoredMethod,
    SetupStarted,
    StoredMethod,
)
from rinnovo.payments.service_layer.context import Context
from rinnovo.runtime.changes import Decision
from rinnovo.runtime.errors import Invalid


def stored_method_id(customer_id: str, method: str) -> str:
    """One stored method per customer and method: storing another replaces it."""
    return f"{customer_id}:{method}"


async def start_setup(ctx: Context, customer_id: str, method: str) -> SetupStarted:
    """A setup with the provider for the customer to confirm in the browser, remembered as
    ours and theirs."""
    plugin = _saved_with_provider(ctx, method)
    provider_customer = await _provider_customer(ctx, customer_id, plugin)
    started = await plugin.start_setup(customer_id, provider_customer, f"setup-{uuid.uuid4()}")
    setup = MethodSetup(started.setup_id, customer_id, method, provider_customer, ctx.now())
    await ctx.setups.create(setup.setup_id, setup)
    return started


async def confirm_setup(ctx: Context, customer_id: str, method: str, setup_id: str) -> StoredMethod:
    """Store what the customer's confirmed setup saved, as the provider reports it."""
    plugin = _saved_with_provider(ctx, method)
    read = await ctx.setups.get(setup_id)
    if read is None or read.value.customer_id != customer_id:
        raise Invalid("setup_id", "no setup of yours has this id; start one first")
    try:
        seen = await plugin.read_setup(setup_id)
        provider_method = check_confirmed(read.value, method, plugin.setup_type, seen)
    except NotConfirmed as exc:
        raise Invalid("setup_id", str(exc)) from exc
    stored = StoredMethod(
        customer_id=customer_id,
        method=method,
        provider_customer=read.value.provider_customer,
        provider_method=provider_method,
        label=seen.label,
        registered_at=ctx.now(),
        registered_by=customer_id,
        mandate_reference=seen.mandate_reference,
    )
    return await _keep(ctx, stored)


async def store_method(
    ctx: Context, customer_id: str, method: str, details: Mapping[str, Any], by: str
) -> StoredMethod:
    """An operator's import of a method saved elsewhere, by its provider references."""
    _chargeable(ctx, method)
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
    return await _keep(ctx, stored)


async def stored_methods_of(ctx: Context, customer_id: str) -> list[StoredMethod]:
    found = await ctx.stored_methods.find({"customer_id": customer_id}, sort=[("_id", 1)])
    return [s.value for s in found]


async def _keep(ctx: Context, stored: StoredMethod) -> StoredMethod:
    id_ = stored_method_id(stored.customer_id, stored.method)
    if await ctx.stored_methods.create(id_, stored) is None:
        await ctx.stored_methods.change(id_, lambda _: Decision(stored))
    return stored


async def _provider_customer(ctx: Context, customer_id: str, plugin: SetsUpStoredMethod) -> str:
    """The provider customer already made for this customer, else a new one."""
    where = {"customer_id": customer_id}
    if setups := await ctx.setups.find(where, limit=1):
        return setups[0].value.provider_customer
    if stored := await ctx.stored_methods.find(where, limit=1):
        return stored[0].value.provider_customer
    key = uuid.uuid5(uuid.NAMESPACE_URL, f"rinnovo-customer:{customer_id}")
    return await plugin.create_customer(customer_id, f"customer-{key}")


def _chargeable(ctx: Context, method: str) -> object:
    plugin = ctx.methods.get(method)
    if not isinstance(plugin, ChargesStoredMethod):
        chargeable = ctx.methods.chargeable()
        raise Invalid("method", f"{method!r} cannot be stored; choose one of {chargeable}")
    return plugin


def _saved_with_provider(ctx: Context, method: str) -> SetsUpStoredMethod:
    plugin = _chargeable(ctx, method)
    if not isinstance(plugin, SetsUpStoredMethod):
        raise Invalid("method", f"{method!r} is not saved with a provider here")
    return plugin
