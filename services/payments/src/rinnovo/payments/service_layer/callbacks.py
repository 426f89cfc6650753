"""A payment provider's signed callbacks: verified, then acted on once.

A paid notice registers the money (or opens its review) like any money arriving; a notice
about a charge the provider was still processing finishes that charge. Each callback is
recorded by the provider's event id, so a replay is answered from the record.
"""

from collections.abc import Mapping

from rinnovo.payments.domain.callbacks import ProcessedCallback
from rinnovo.payments.domain.matching import Incoming
from rinnovo.payments.domain.reviews import MoneyContext
from rinnovo.payments.methods.base import NoticeKind, ProviderNotice
from rinnovo.payments.service_layer import charges
from rinnovo.payments.service_layer.context import Context
from rinnovo.payments.service_layer.receiving import receive
from rinnovo.runtime.errors import NotFound


async def provider_callback(
    ctx: Context, provider_name: str, body: bytes, headers: Mapping[str, str]
) -> str:
    """Verify (``BadCallback`` if not genuine), then act once; returns what was done."""
    provider = ctx.methods.provider(provider_name)
    if provider is None:
        raise NotFound(f"no payment provider {provider_name!r}")
    now = ctx.now()
    notice = provider.read_callback(body, headers, now)
    callback_id = f"{provider_name}:{notice.event_id}"
    if await ctx.callbacks.get(callback_id) is not None:
        return "already processed"
    outcome = await _act_on(ctx, provider_name, notice)
    await ctx.callbacks.create(callback_id, ProcessedCallback(callback_id, outcome, now))
    return outcome


async def _act_on(ctx: Context, provider_name: str, notice: ProviderNotice) -> str:
    if notice.kind is NoticeKind.IGNORED:
        return "ignored"
    read = await ctx.payments.get(notice.payment_id) if notice.payment_id else None
    # A SEPA debit (or a card needing more time) answered later, by callback.
    in_flight = read is not None and read.value.charge_in_flight(notice.reference)
    if notice.kind is NoticeKind.FAILED:
        if read is None or not in_flight:
            return "ignored"
        await charges.charge_failed(ctx, read, notice.reason or "failed", counted=False)
        return "charge failed"
    amount = notice.amount_cents
    if amount is None:
        amount = read.value.amount_cents if read else 0
    incoming = Incoming(f"{provider_name}:{notice.reference or notice.event_id}", amount)
    if read is not None and in_flight:
        await charges.charge_succeeded(ctx, read, incoming, counted=False)
        return "registered"
    decision = (await receive(ctx, read, incoming, "provider", MoneyContext())).decision
    if decision.register:
        return "registered"
    return decision.review.value if decision.review else "already registered"
