"""Automatic renewal: the stored method charged when due, and what each result does.

A charge carries an idempotency key made of the payment and the attempt number: after a
crash before its result was written, the same attempt is made again and the provider
answers with the first result, so the customer is never charged twice. A charge the
provider is still processing (a SEPA debit) is finished by its callback (``callbacks``).
"""

import structlog

from rinnovo.payments.domain.matching import Decision as Match
from rinnovo.payments.domain.matching import Incoming
from rinnovo.payments.domain.payments import Charging, Payment, Registration
from rinnovo.payments.domain.retries import next_attempt_at
from rinnovo.payments.domain.reviews import MoneyContext
from rinnovo.payments.integration_events import EventFactory
from rinnovo.payments.methods.base import ChargeOutcome, ChargesStoredMethod
from rinnovo.payments.service_layer.context import Context
from rinnovo.payments.service_layer.products import retry_days
from rinnovo.payments.service_layer.receiving import match, open_review
from rinnovo.payments.service_layer.stored_methods import stored_method_id
from rinnovo.runtime.changes import Decision, Stored
from rinnovo.runtime.clock import rome_date

log = structlog.get_logger(__name__)


async def charge_due(ctx: Context, claimed: Stored[Payment]) -> None:
    """Try the stored method of a payment claimed for it, once."""
    payment = claimed.value
    if not payment.charge_due(ctx.now()) or payment.charging is None:
        # A stale schedule: the write sets the due instant again and releases the claim.
        await ctx.payments.change(claimed.id, lambda s: Decision(s.value), read=claimed)
        return
    method = ctx.methods.get(payment.method)
    if not isinstance(method, ChargesStoredMethod):
        await charge_failed(ctx, claimed, f"{payment.method} cannot be charged", final=True)
        return
    stored = await ctx.stored_methods.get(stored_method_id(payment.customer_id, payment.method))
    if stored is None:
        await charge_failed(ctx, claimed, "no stored payment method")
        return
    attempt = payment.charging.attempts + 1
    key = f"{payment.payment_id}-attempt-{attempt}"
    result = await method.charge(payment, stored.value, key)
    provider = ctx.methods.provider_of(method)
    source = f"{provider.name if provider else payment.method}:{result.reference or key}"
    if result.outcome is ChargeOutcome.SUCCEEDED:
        amount = payment.amount_cents if result.amount_cents is None else result.amount_cents
        await charge_succeeded(ctx, claimed, Incoming(source, amount), counted=True)
    elif result.outcome is ChargeOutcome.PROCESSING:
        await _charge_started(ctx, claimed, attempt, result.reference or source)
    else:
        await charge_failed(ctx, claimed, result.reason or "declined")


async def charge_succeeded(
    ctx: Context, read: Stored[Payment], incoming: Incoming, counted: bool
) -> None:
    """The charge took the money: the attempt counted (unless counted when it started) and
    the payment registered; charged although paid or voided meanwhile, it goes to review
    (an operator refunds it)."""

    def succeeded(stored: Stored[Payment], decided: Match) -> Decision[Payment] | None:
        if decided.nothing_to_do:
            return None  # this very charge was registered already
        now = ctx.now()
        payment = stored.value
        attempt = (payment.charging or Charging()).attempts + (1 if counted else 0)
        updated = payment.charge_counted(attempt)
        if decided.register:
            source, cents = incoming.source, incoming.amount_cents
            updated = updated.register(Registration(source, "stored_method", cents, now))
        factory = EventFactory(updated, stored.version, now, None)
        factory.charge_attempted(attempt, True, None, None)
        if decided.register:
            factory.registered()
        return Decision(updated, factory.events)

    decided, changed = await match(ctx, read, incoming, succeeded)
    if changed.written and decided.review is not None:
        await open_review(ctx, decided, changed.value, incoming, MoneyContext())


async def charge_failed(
    ctx: Context, read: Stored[Payment], reason: str, counted: bool = True, final: bool = False
) -> None:
    """A failed charge (``counted`` False when it was counted as it started): tried again
    on the product's schedule, or, with no attempt left (``final``), the payment fails."""
    retry = await retry_days(ctx, read.value.product_id)

    def failed(stored: Stored[Payment]) -> Decision[Payment] | None:
        payment = stored.value
        if not payment.accepts_money:
            return None
        now = ctx.now()
        attempt = (payment.charging or Charging()).attempts + (1 if counted else 0)
        due = payment.instructions.due_date
        next_at = None if final else next_attempt_at(now, attempt, retry, due)
        updated = payment.charge_failed(reason, next_at, counted)
        factory = EventFactory(updated, stored.version, now, None)
        factory.charge_attempted(attempt, False, reason, rome_date(next_at) if next_at else None)
        if next_at is None:
            factory.failed(reason, attempt)
        return Decision(updated, factory.events)

    changed = await ctx.payments.change(read.id, failed, read=read)
    if changed.written:
        charging = changed.value.charging
        log.info(
            "charge failed",
            payment=read.id,
            attempt=charging.attempts if charging else None,
            next=charging.next_attempt_at if charging else None,
        )


async def _charge_started(
    ctx: Context, claimed: Stored[Payment], attempt: int, reference: str
) -> None:
    """The provider took the charge and answers later (by callback)."""

    def started(stored: Stored[Payment]) -> Decision[Payment] | None:
        if not stored.value.awaits_attempt(attempt):
            return None
        return Decision(stored.value.charge_started(reference))

    changed = await ctx.payments.change(claimed.id, started, read=claimed)
    if not changed.written:
        log.warning("charge in flight, payment changed meanwhile", payment=claimed.id)
