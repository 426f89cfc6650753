"""Payments use cases: one method per command or consumed event.

Every change of a payment is a version-guarded single-document write carrying its events
(outbox) and the id of what caused it (inbox); on a concurrent change the use case reads
again and decides again. Money that arrives is decided by ``domain.matching``: registered at
most once per order, and anything else opened as a review item, whose id names the movement
of money, so seeing the same money twice opens nothing new.
"""

import contextlib
import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import structlog

from rinnovo.contracts import Event
from rinnovo.contracts.catalog import ProductSnapshotPublished
from rinnovo.contracts.orders import OrderCancelled, OrderPaymentRefused, OrderPlaced
from rinnovo.contracts.payments import InstructionsKind
from rinnovo.payments.adapters.catalog_replica import ProductReplica
from rinnovo.payments.adapters.repositories import (
    BankTransactions,
    Callbacks,
    Payments,
    Reviews,
    Statements,
    StoredMethods,
    Versioned,
)
from rinnovo.payments.domain.matching import (
    Decision,
    Incoming,
    ReviewReason,
    decide,
    order_numbers_in,
)
from rinnovo.payments.domain.payments import (
    Charging,
    Holder,
    Payment,
    Registration,
)
from rinnovo.payments.domain.retries import next_attempt_at
from rinnovo.payments.domain.reviews import (
    Action,
    CannotResolve,
    Resolution,
    ReviewItem,
    ReviewStatus,
)
from rinnovo.payments.domain.statement_import import (
    EntryResult,
    ImportResult,
    already_imported,
    decided,
    ignored,
    reviewed,
    unusable_review,
)
from rinnovo.payments.domain.statements import BankEntry, IgnoredEntry, Statement
from rinnovo.payments.errors import Conflict, Invalid, NotFound
from rinnovo.payments.integration_events import EventFactory
from rinnovo.payments.methods.base import (
    CallbackProvider,
    ChargesStoredMethod,
    HostedCheckout,
    NoticeKind,
    PaymentMethod,
    PaymentRequest,
    ProviderNotice,
    Refunds,
    StoredMethod,
)
from rinnovo.runtime.aggregates import VersionConflict
from rinnovo.runtime.clock import Clock, rome_date
from rinnovo.runtime.dead_letters import PoisonMessage

log = structlog.get_logger(__name__)

CHECKOUT_MARGIN = timedelta(minutes=10)
"""A hosted session closer than this to its expiry is replaced by a fresh one."""


def review_id_for(source: str) -> str:
    """A review item's id: named after the money concerned, and safe in a URL."""
    return "rev-" + hashlib.sha256(source.encode()).hexdigest()[:24]


def payment_id_for(order_id: str) -> str:
    """One payment per order, named after it: a redelivered order creates nothing new."""
    return f"pay-{order_id}"


@dataclass(frozen=True)
class Policies:
    public_base_url: str
    default_retry_days: tuple[int, ...]
    """Used when the product is not (yet) in the catalog replica."""


@dataclass(frozen=True)
class MoneyContext:
    """What an operator reviewing the money needs to see."""

    remittance: str | None = None
    payer: str | None = None
    booked_on: str | None = None


class PaymentsApp:
    def __init__(
        self,
        *,
        payments: Payments,
        reviews: Reviews,
        bank: BankTransactions,
        statements: Statements,
        stored_methods: StoredMethods,
        callbacks: Callbacks,
        products: ProductReplica,
        methods: Mapping[str, PaymentMethod],
        clock: Clock,
        policies: Policies,
        on_events: Callable[[], None] = lambda: None,
    ) -> None:
        self.payments = payments
        self.reviews = reviews
        self.bank = bank
        self.statements = statements
        self.stored_methods = stored_methods
        self.callbacks = callbacks
        self.products = products
        self.methods = dict(methods)
        self.clock = clock
        self.policies = policies
        self._on_events = on_events
        self.providers: dict[str, CallbackProvider] = {}
        for method in self.methods.values():
            provider = getattr(method, "provider", None)
            if isinstance(provider, CallbackProvider):
                self.providers[provider.name] = provider

    def events_written(self) -> None:
        self._on_events()

    # -- consumed events ----------------------------------------------------------------------

    async def on_order_event(self, event: Event) -> None:
        if isinstance(event, OrderPlaced):
            await self.request_payment(event)
        elif isinstance(event, OrderCancelled):
            await self.void_payment(event)
        elif isinstance(event, OrderPaymentRefused):
            await self.payment_refused(event)

    async def on_catalog_event(self, event: Event) -> None:
        if isinstance(event, ProductSnapshotPublished):
            await self.products.apply(event.aggregate_id, event.aggregate_version, event.payload)

    async def request_payment(self, event: OrderPlaced) -> None:
        """The payment an order awaits, with its instructions, in one write with its event."""
        p = event.payload
        method = self.methods.get(p.payment_method)
        if method is None:
            known = ", ".join(sorted(self.methods))
            raise PoisonMessage(
                "unknown_payment_method", f"{p.payment_method!r} is not allowed here ({known})"
            )
        payment_id = payment_id_for(p.order_id)
        if await self.payments.get(payment_id) is not None:
            return  # a redelivery
        now = self.clock.now()
        h = p.holder
        holder = Holder(h.customer_id, h.name, str(h.email), h.locale)
        request = PaymentRequest(
            payment_id=payment_id,
            order_number=p.number,
            amount_cents=p.total_cents,
            due_date=p.payment_due,
            holder=holder,
            checkout_url=f"{self.policies.public_base_url}/v1/payments/{payment_id}/checkout",
        )
        charge_now = p.kind.value == "automatic_renewal" and isinstance(method, ChargesStoredMethod)
        instructions = method.instructions(request)
        if charge_now:
            # The stored method is charged; a hosted method's link stays as the way to pay
            # by hand should every charge fail.
            instructions = replace(instructions, kind=InstructionsKind.STORED_METHOD.value)
        payment = Payment(
            payment_id=payment_id,
            order_id=p.order_id,
            order_number=p.number,
            order_kind=p.kind.value,
            service_id=p.service_id,
            product_id=p.product_id,
            holder=holder,
            method=method.name,
            amount_cents=p.total_cents,
            instructions=instructions,
            usual_registration_days=method.usual_registration_days,
            requested_at=now,
            charging=Charging(next_attempt_at=now) if charge_now else None,
        )
        events = EventFactory(payment, 0, now, event).requested().events
        if p.total_cents == 0:  # fully discounted: nothing to wait for
            payment = payment.register(Registration(f"free:{p.order_id}", "operator", 0, now))
            events += EventFactory(payment, len(events), now, event).registered().events
        try:
            await self.payments.add(payment, events, caused_by=str(event.event_id))
        except VersionConflict:
            return  # created by a concurrent delivery
        self._on_events()

    async def void_payment(self, event: OrderCancelled) -> None:
        payment_id = payment_id_for(event.payload.order_id)
        event_id = str(event.event_id)
        while True:
            stored = await self.payments.get(payment_id)
            if stored is None or event_id in stored.inbox or not stored.value.accepts_money:
                return  # never requested, already done, or paid (orders refuses the payment)
            voided = stored.value.void(self.clock.now())
            events = EventFactory(voided, stored.version, self.clock.now(), event)
            events.voided(f"order cancelled: {event.payload.reason.value}")
            try:
                await self.payments.save(stored, voided, events.events, event_id)
            except VersionConflict:
                continue
            self._on_events()
            return

    async def payment_refused(self, event: OrderPaymentRefused) -> None:
        """Orders could not apply a registered payment: the money goes to review."""
        p = event.payload
        stored = await self.payments.get(p.payment_id)
        payment = stored.value if stored else None
        source = (
            payment.registration.source
            if payment and payment.registration
            else f"refused:{p.payment_id}"
        )
        await self.reviews.open(
            ReviewItem(
                review_id=review_id_for(f"refused:{p.payment_id}"),
                reason=ReviewReason.PAYMENT_REFUSED,
                opened_at=self.clock.now(),
                source=source,
                amount_cents=p.amount_cents,
                detail=f"orders could not apply the payment: {p.reason.value}",
                expected_cents=payment.amount_cents if payment else None,
                order_number=p.number,
                order_id=p.order_id,
                payment_id=p.payment_id,
            )
        )

    # -- money arriving -----------------------------------------------------------------------

    async def receive(
        self,
        payment_id: str | None,
        incoming: Incoming,
        kind: str,
        context: MoneyContext,
        forced: ReviewReason | None = None,
    ) -> Decision:
        """Register money for a payment or open its review; at most once per ``source``."""
        while True:
            stored = await self.payments.get(payment_id) if payment_id else None
            payment = stored.value if stored else None
            decision = Decision(False, forced) if forced else decide(payment, incoming)
            if decision.register:
                assert stored is not None and payment is not None
                now = self.clock.now()
                registered = payment.register(
                    Registration(incoming.source, kind, incoming.amount_cents, now)
                )
                events = EventFactory(registered, stored.version, now, None).registered().events
                try:
                    await self.payments.save(stored, registered, events, incoming.source)
                except VersionConflict:
                    continue  # changed meanwhile (registered by a concurrent delivery?)
                self._on_events()
                log.info("payment registered", order=payment.order_number, source=incoming.source)
            if decision.review is not None:
                await self._open_review(decision, payment, incoming, context)
            return decision

    async def _open_review(
        self, decision: Decision, payment: Payment | None, incoming: Incoming, ctx: MoneyContext
    ) -> bool:
        assert decision.review is not None
        reason = decision.review
        details = {
            ReviewReason.UNDERPAYMENT: "less than the order's amount arrived",
            ReviewReason.OVERPAYMENT: "more than the order's amount arrived; the order is paid",
            ReviewReason.DUPLICATE: "the order was already paid",
            ReviewReason.UNKNOWN_REFERENCE: "no order of ours is quoted",
            ReviewReason.AMBIGUOUS_REFERENCE: "several orders are quoted",
            ReviewReason.CANCELLED_ORDER: "the order was cancelled before this arrived",
        }
        opened = await self.reviews.open(
            ReviewItem(
                review_id=review_id_for(incoming.source),
                reason=reason,
                opened_at=self.clock.now(),
                source=incoming.source,
                amount_cents=incoming.amount_cents,
                detail=details.get(reason, reason.value),
                expected_cents=payment.amount_cents if payment else None,
                refundable_cents=decision.excess_cents if decision.excess_cents else None,
                order_number=payment.order_number if payment else None,
                order_id=payment.order_id if payment else None,
                payment_id=payment.payment_id if payment else None,
                remittance=ctx.remittance,
                payer=ctx.payer,
                booked_on=ctx.booked_on,
            )
        )
        if opened:
            log.warning("payment to review", reason=reason.value, source=incoming.source)
        return opened

    # -- bank statements ----------------------------------------------------------------------

    async def import_statement(self, statement: Statement, by: str) -> ImportResult:
        """Reconcile a statement already validated whole. Each credit is recorded by the
        bank's reference before it is decided, so importing the file again, or after a crash
        half-way, decides each credit once."""
        now = self.clock.now()
        entries: list[EntryResult] = []
        opened = 0
        for line in statement.lines:
            if isinstance(line, IgnoredEntry):
                entries.append(ignored(line))
                continue
            earlier = await self.bank.claim(line, statement.statement_id, now)
            if earlier:
                entries.append(already_imported(line, earlier))
                continue
            decided_entry, new_review = await self._reconcile(line)
            await self.bank.decided(line, decided_entry.stored_outcome)
            entries.append(decided_entry)
            opened += new_review
        result = ImportResult.of(statement, entries, opened, first=True)
        record = {**result.record(), "imported_at": now, "imported_by": by}
        first = await self.statements.record(statement.statement_id, record)
        return replace(result, first_import=first)

    async def _reconcile(self, entry: BankEntry) -> tuple[EntryResult, bool]:
        """Decide one credit; returns what happened and whether a review item was opened."""
        review_id = review_id_for(entry.source)
        if entry.unusable is not None:
            opened = await self.reviews.open(unusable_review(entry, review_id, self.clock.now()))
            return reviewed(entry, entry.unusable, review_id), opened
        numbers = order_numbers_in(entry.remittance)
        booked_on = entry.booked_on.isoformat() if entry.booked_on else None
        context = MoneyContext(entry.remittance, entry.payer, booked_on)
        incoming = Incoming(entry.source, entry.amount_cents)
        forced = ReviewReason.AMBIGUOUS_REFERENCE if len(numbers) > 1 else None
        stored = await self.payments.by_order_number(numbers[0]) if len(numbers) == 1 else None
        payment_id = stored.value.payment_id if stored else None
        before = await self.reviews.get(review_id)
        decision = await self.receive(payment_id, incoming, "statement", context, forced)
        opened = decision.review is not None and before is None
        order_number = stored.value.order_number if stored else None
        return decided(entry, decision, order_number, review_id), opened

    # -- provider callbacks -------------------------------------------------------------------

    async def provider_callback(
        self, provider_name: str, body: bytes, headers: Mapping[str, str]
    ) -> str:
        """Verify (``BadCallback`` if not genuine), then act once; returns what was done."""
        provider = self.providers.get(provider_name)
        if provider is None:
            raise NotFound(f"no payment provider {provider_name!r}")
        now = self.clock.now()
        notice = provider.read_callback(body, headers, now)
        callback_id = f"{provider_name}:{notice.event_id}"
        if await self.callbacks.processed(callback_id):
            return "already processed"
        outcome = await self._act_on(provider_name, notice)
        await self.callbacks.remember(callback_id, outcome, now)
        return outcome

    async def _act_on(self, provider_name: str, notice: ProviderNotice) -> str:
        if notice.kind is NoticeKind.IGNORED:
            return "ignored"
        source = f"{provider_name}:{notice.reference or notice.event_id}"
        stored = await self.payments.get(notice.payment_id) if notice.payment_id else None
        payment = stored.value if stored else None
        # A SEPA debit (or a card needing more time) answered later, by callback.
        in_flight = bool(
            payment and payment.charging and payment.charging.in_flight == notice.reference
        )
        if notice.kind is NoticeKind.FAILED:
            if stored is not None and in_flight:
                await self._charge_failed(stored, notice.reason or "failed", counted=False)
                return "charge failed"
            return "ignored"
        amount = notice.amount_cents
        if amount is None:
            amount = payment.amount_cents if payment else 0
        incoming = Incoming(source, amount)
        if (
            in_flight
            and payment
            and payment.charging
            and payment.charging.in_flight == notice.reference
        ):
            await self._charge_succeeded(payment.payment_id, incoming, counted=False)
            return "registered"
        decision = await self.receive(
            payment.payment_id if payment else None, incoming, "provider", MoneyContext()
        )
        if decision.register:
            return "registered"
        return decision.review.value if decision.review else "already registered"

    # -- hosted checkout ----------------------------------------------------------------------

    async def checkout_url(self, payment_id: str) -> str:
        """The provider's page for this payment: the current session, or a fresh one."""
        while True:
            stored = await self.payments.get(payment_id)
            if stored is None:
                raise NotFound(f"no payment {payment_id!r}")
            payment = stored.value
            if not payment.accepts_money:
                raise Conflict(f"the payment is {payment.status.value}: nothing to pay")
            method = self.methods.get(payment.method)
            if not isinstance(method, HostedCheckout):
                raise Conflict(f"{payment.method} is not paid on a provider's page")
            now = self.clock.now()
            current = payment.checkout
            if current is not None and current.expires_at > now + CHECKOUT_MARGIN:
                return current.url
            number = (current.created if current else 0) + 1
            # The same key for the same session number: two clicks get one session.
            session = await method.open_checkout(payment, f"checkout-{payment_id}-{number}")
            updated = replace(payment, checkout=replace(session, created=number))
            try:
                await self.payments.save(stored, updated)
            except VersionConflict:
                continue
            return session.url

    # -- automatic renewal: charging stored methods ------------------------------------------

    async def retry_days(self, product_id: str) -> tuple[int, ...]:
        product = await self.products.get(product_id)
        return (
            product.policy.auto_renewal_retry_days if product else self.policies.default_retry_days
        )

    async def charge_due(self, payment_id: str) -> None:
        """Try the stored method once. The provider call carries an idempotency key made of
        the payment and the attempt number: after a crash before the result was written, the
        same attempt is made again and the provider answers with the first result."""
        stored = await self.payments.get(payment_id)
        now = self.clock.now()
        if stored is None:
            return
        payment = stored.value
        due = payment.next_attempt_at
        if due is None or due > now or payment.charging is None:
            with contextlib.suppress(VersionConflict):
                await self.payments.save(stored, payment)  # stale schedule: rewrite it
            return
        method = self.methods.get(payment.method)
        attempt = payment.charging.attempts + 1
        stored_method = await self.stored_methods.get(payment.customer_id, payment.method)
        if not isinstance(method, ChargesStoredMethod):
            await self._charge_failed(stored, f"{payment.method} cannot be charged", final=True)
            return
        if stored_method is None:
            await self._charge_failed(stored, "no stored payment method")
            return
        result = await method.charge(payment, stored_method, f"{payment_id}-attempt-{attempt}")
        provider = getattr(getattr(method, "provider", None), "name", payment.method)
        source = f"{provider}:{result.reference or f'{payment_id}-attempt-{attempt}'}"
        if result.outcome == "succeeded":
            amount = payment.amount_cents if result.amount_cents is None else result.amount_cents
            await self._charge_succeeded(payment_id, Incoming(source, amount), counted=True)
        elif result.outcome == "processing":
            started = payment.charge_started(result.reference or source)
            try:
                await self.payments.save(stored, started)
            except VersionConflict:
                log.warning("charge in flight, payment changed meanwhile", payment=payment_id)
        else:
            await self._charge_failed(stored, result.reason or "declined")

    async def _charge_succeeded(self, payment_id: str, incoming: Incoming, counted: bool) -> None:
        while True:
            stored = await self.payments.get(payment_id)
            assert stored is not None
            payment = stored.value
            charging = payment.charging or Charging()
            attempt = charging.attempts + (1 if counted else 0)
            decision = decide(payment, incoming)
            if decision.nothing_to_do:
                return  # this very charge was registered already
            now = self.clock.now()
            counted_payment = replace(
                payment, charging=replace(charging, attempts=attempt, in_flight=None)
            )
            updated = counted_payment
            if decision.register:
                updated = counted_payment.register(
                    Registration(incoming.source, "stored_method", incoming.amount_cents, now)
                )
            factory = EventFactory(updated, stored.version, now, None)
            factory.charge_attempted(attempt, True, None, None)
            if decision.register:
                factory.registered()
            try:
                await self.payments.save(stored, updated, factory.events, incoming.source)
            except VersionConflict:
                continue
            self._on_events()
            if decision.review is not None:
                # Charged although paid or voided meanwhile: an operator refunds it.
                await self._open_review(decision, payment, incoming, MoneyContext())
            return

    async def _charge_failed(
        self, stored: Versioned, reason: str, counted: bool = True, final: bool = False
    ) -> None:
        while True:
            payment = stored.value
            if not payment.accepts_money:
                return
            now = self.clock.now()
            charging = payment.charging or Charging()
            attempt = charging.attempts + (1 if counted else 0)
            retry = await self.retry_days(payment.product_id)
            due = payment.instructions.due_date
            next_at = None if final else next_attempt_at(now, attempt, retry, due)
            updated = payment.charge_failed(reason, next_at, counted)
            factory = EventFactory(updated, stored.version, now, None)
            next_on = rome_date(next_at) if next_at else None
            factory.charge_attempted(attempt, False, reason, next_on)
            if next_at is None:
                factory.failed(reason, attempt)
            try:
                await self.payments.save(stored, updated, factory.events)
            except VersionConflict:
                fresh = await self.payments.get(payment.payment_id)
                if fresh is None:
                    return
                stored = fresh
                continue
            self._on_events()
            log.info("charge failed", payment=payment.payment_id, attempt=attempt, next=next_on)
            return

    # -- review items -------------------------------------------------------------------------

    async def review_items(self, status: ReviewStatus | None) -> list[ReviewItem]:
        return await self.reviews.listed(status)

    async def resolve_review(
        self, review_id: str, action: Action, by: str, note: str, order_number: str | None
    ) -> ReviewItem:
        item = await self.reviews.get(review_id)
        if item is None:
            raise NotFound(f"no review item {review_id!r}")
        if item.status is not ReviewStatus.OPEN:
            raise Conflict(f"review item {review_id} is already resolved")
        resolution = Resolution(action, by, self.clock.now(), note, order_number)
        try:
            resolved = item.resolve(resolution)
        except CannotResolve as exc:
            raise Invalid("action", str(exc)) from exc
        if action is Action.REGISTER:
            target = await self._register_target(resolved)
            if not target.value.accepts_money:
                raise Conflict(f"order {target.value.order_number} is {target.value.status.value}")
        if not await self.reviews.resolve(resolved):
            raise Conflict(f"review item {review_id} was resolved meanwhile")
        try:
            await self.apply_resolution(resolved)
        except Conflict:
            await self.reviews.replace(item)  # the effect cannot happen: open it again
            raise
        return replace(resolved, applied=True)

    async def _register_target(self, item: ReviewItem) -> Versioned:
        number = (item.resolution and item.resolution.order_number) or item.order_number
        target = await self.payments.by_order_number(number or "")
        if target is None:
            raise Invalid("order_number", f"no payment awaits order {number!r}")
        return target

    async def apply_resolution(self, item: ReviewItem) -> None:
        """The effect of a stored resolution, once (the payment's inbox remembers it)."""
        assert item.resolution is not None
        cause = f"review:{item.review_id}"
        action = item.resolution.action
        if action is Action.REGISTER:
            await self._register_by_operator(item, cause)
        elif action is Action.REFUND:
            await self._refund(item, cause)
        await self.reviews.replace(replace(item, applied=True))

    async def _register_by_operator(self, item: ReviewItem, cause: str) -> None:
        while True:
            target = await self._register_target(item)
            payment = target.value
            if cause in target.inbox:
                return
            if not payment.accepts_money:
                raise Conflict(f"order {payment.order_number} is {payment.status.value}")
            now = self.clock.now()
            registered = payment.register(
                Registration(item.source, "operator", item.amount_cents, now)
            )
            events = EventFactory(registered, target.version, now, None).registered().events
            try:
                await self.payments.save(target, registered, events, cause)
            except VersionConflict:
                continue
            self._on_events()
            return

    async def _refund(self, item: ReviewItem, cause: str) -> None:
        """Refund through the provider that took the money; bank money is sent back by the
        operator, and recorded here. With an order, ``PaymentRefunded`` tells accounting."""
        provider_name, _, reference = item.source.partition(":")
        refunder = self._refunder(provider_name)
        if refunder is not None:
            await refunder.refund(reference, item.refund_cents, f"refund-{item.review_id}")
        if item.payment_id is None:
            return
        while True:
            stored = await self.payments.get(item.payment_id)
            if stored is None or cause in stored.inbox:
                return
            now = self.clock.now()
            refunded = stored.value.refund(item.refund_cents)
            factory = EventFactory(refunded, stored.version, now, None)
            factory.refunded(item.refund_cents, item.reason.value)
            try:
                await self.payments.save(stored, refunded, factory.events, cause)
            except VersionConflict:
                continue
            self._on_events()
            return

    def _refunder(self, provider_name: str) -> Refunds | None:
        for method in self.methods.values():
            provider = getattr(method, "provider", None)
            if isinstance(method, Refunds) and getattr(provider, "name", None) == provider_name:
                return method
        return None

    async def finish_resolutions(self, now: datetime) -> int:
        """Apply resolutions a crash interrupted after they were stored."""
        items = await self.reviews.unapplied(now - timedelta(minutes=1))
        for item in items:
            try:
                await self.apply_resolution(item)
            except Conflict:
                log.error("a resolution cannot be applied", review=item.review_id)
        return len(items)

    # -- customers ----------------------------------------------------------------------------

    async def payments_of(self, customer_id: str, order_id: str | None) -> list[Payment]:
        if order_id is None:
            return await self.payments.of_customer(customer_id)
        stored = await self.payments.get(payment_id_for(order_id))
        if stored is None or stored.value.customer_id != customer_id:
            return []
        return [stored.value]

    async def store_method(
        self,
        customer_id: str,
        method: str,
        details: Mapping[str, Any],
        by: str,
    ) -> StoredMethod:
        plugin = self.methods.get(method)
        if not isinstance(plugin, ChargesStoredMethod):
            chargeable = sorted(
                n for n, m in self.methods.items() if isinstance(m, ChargesStoredMethod)
            )
            raise Invalid("method", f"{method!r} cannot be stored; choose one of {chargeable}")
        stored = StoredMethod(
            customer_id=customer_id,
            method=method,
            provider_customer=str(details["provider_customer"]),
            provider_method=str(details["provider_method"]),
            label=str(details["label"]),
            registered_at=self.clock.now(),
            registered_by=by,
            mandate_reference=details.get("mandate_reference"),
        )
        await self.stored_methods.put(stored)
        return stored

    async def stored_methods_of(self, customer_id: str) -> list[StoredMethod]:
        return await self.stored_methods.of_customer(customer_id)

    def offered_methods(self) -> Sequence[PaymentMethod]:
        return [self.methods[name] for name in sorted(self.methods)]
