"""Bank statements reconciled: each credit matched with the order its remittance quotes,
registered or sent to review, and the whole file answered entry by entry.

Each credit is recorded by the bank's reference before it is decided, so importing the
file again, or after a crash half-way, decides each credit once.
"""

from dataclasses import replace
from datetime import datetime

from rinnovo.payments.domain.matching import Incoming, ReviewReason, order_numbers_in
from rinnovo.payments.domain.reviews import MoneyContext, review_id_for
from rinnovo.payments.domain.statement_import import (
    BankCredit,
    EntryResult,
    ImportResult,
    already_imported,
    decided,
    ignored,
    reviewed,
    unusable_review,
)
from rinnovo.payments.domain.statements import BankEntry, IgnoredEntry, Statement
from rinnovo.payments.service_layer.context import Context
from rinnovo.payments.service_layer.receiving import receive
from rinnovo.runtime.changes import Decision, Stored


async def import_statement(ctx: Context, statement: Statement, by: str) -> ImportResult:
    """Reconcile a statement already validated whole."""
    now = ctx.now()
    entries: list[EntryResult] = []
    opened = 0
    for line in statement.lines:
        if isinstance(line, IgnoredEntry):
            entries.append(ignored(line))
            continue
        entry, new_review = await _import_credit(ctx, line, statement.statement_id, now)
        entries.append(entry)
        opened += new_review
    result = ImportResult.of(statement, entries, opened, first=True)
    first = await ctx.statements.create(statement.statement_id, result.record(now, by))
    return replace(result, first_import=first is not None)


async def _import_credit(
    ctx: Context, entry: BankEntry, statement_id: str, now: datetime
) -> tuple[EntryResult, bool]:
    """What became of one credit; whether it opened a review item."""
    credit = await _recorded(ctx, entry, statement_id, now)
    if credit.value.outcome:
        return already_imported(entry, credit.value.outcome), False
    result, opened = await _reconcile(ctx, entry)
    outcome = result.stored_outcome
    await ctx.bank.change(credit.id, lambda s: Decision(s.value.decided(outcome)), read=credit)
    return result, opened


async def _recorded(
    ctx: Context, entry: BankEntry, statement_id: str, now: datetime
) -> Stored[BankCredit]:
    """The credit's record: new, or as an earlier import left it (undecided if that one
    stopped half-way)."""
    created = await ctx.bank.create(entry.source, BankCredit(statement_id, entry, now))
    earlier = created.stored if created else await ctx.bank.get(entry.source)
    assert earlier is not None  # records of credits are never removed
    return earlier


async def _reconcile(ctx: Context, entry: BankEntry) -> tuple[EntryResult, bool]:
    """Decide one credit; returns what happened and whether a review item was opened."""
    review_id = review_id_for(entry.source)
    if entry.unusable is not None:
        item = unusable_review(entry, review_id, ctx.now())
        opened = await ctx.reviews.create(review_id, item) is not None
        return reviewed(entry, entry.unusable, review_id), opened
    numbers = order_numbers_in(entry.remittance)
    booked_on = entry.booked_on.isoformat() if entry.booked_on else None
    context = MoneyContext(entry.remittance, entry.payer, booked_on)
    forced = ReviewReason.AMBIGUOUS_REFERENCE if len(numbers) > 1 else None
    read = await ctx.payment_of_order(numbers[0]) if len(numbers) == 1 else None
    incoming = Incoming(entry.source, entry.amount_cents)
    received = await receive(ctx, read, incoming, "statement", context, forced)
    order_number = read.value.order_number if read else None
    return decided(entry, received.decision, order_number, review_id), received.opened
