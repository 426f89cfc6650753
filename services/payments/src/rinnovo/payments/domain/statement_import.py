"""What importing a statement did, entry by entry, so an operator sees the whole file at a
glance: each credit registered, sent to review (and why), or seen in an earlier import; each
other entry ignored (and why)."""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from rinnovo.payments.domain.matching import Decision, ReviewReason
from rinnovo.payments.domain.reviews import ReviewItem
from rinnovo.payments.domain.statements import BankEntry, IgnoredEntry, Statement


class Outcome(StrEnum):
    REGISTERED = "registered"
    """The order is paid (an over-payment also opens a review of the excess)."""
    REVIEW = "review"
    IGNORED = "ignored"
    ALREADY_IMPORTED = "already_imported"
    """Seen in an earlier import: untouched."""


@dataclass(frozen=True)
class EntryResult:
    where: str
    outcome: Outcome
    reason: str | None = None
    """Why: the review reason, or why the entry was ignored (``debit``, ``reversal``, ...)."""
    reference: str | None = None
    amount: str = ""
    """As written in the file, with its currency."""
    amount_cents: int | None = None
    order_number: str | None = None
    review_id: str | None = None
    detail: str = ""

    @property
    def stored_outcome(self) -> str:
        """What the bank-transaction record keeps of the decision."""
        if self.outcome is Outcome.REGISTERED:
            return f"registered+{self.reason}" if self.reason else "registered"
        return self.reason or self.outcome.value


def ignored(line: IgnoredEntry) -> EntryResult:
    return EntryResult(line.where, Outcome.IGNORED, line.reason.value, line.reference, line.amount)


def already_imported(entry: BankEntry, earlier: str) -> EntryResult:
    return EntryResult(
        entry.where,
        Outcome.ALREADY_IMPORTED,
        reference=entry.transaction_id,
        amount=entry.amount,
        amount_cents=entry.amount_cents,
        detail=f"imported before: {earlier}",
    )


def decided(
    entry: BankEntry, decision: Decision, order_number: str | None, review_id: str | None
) -> EntryResult:
    """The result of a credit matched against the orders."""
    if decision.register:
        outcome = Outcome.REGISTERED
    elif decision.review is not None:
        outcome = Outcome.REVIEW
    else:
        outcome = Outcome.ALREADY_IMPORTED  # this very money was registered before
    return EntryResult(
        entry.where,
        outcome,
        decision.review.value if decision.review else None,
        entry.transaction_id,
        entry.amount,
        entry.amount_cents,
        order_number,
        review_id if decision.review else None,
    )


def unusable_review(entry: BankEntry, review_id: str, now: datetime) -> ReviewItem:
    """The review item of a credit that cannot be reconciled automatically."""
    assert entry.unusable is not None
    return ReviewItem(
        review_id=review_id,
        reason=entry.unusable,
        opened_at=now,
        source=entry.source,
        amount_cents=entry.amount_cents,
        detail=entry.detail,
        remittance=entry.remittance,
        payer=entry.payer,
        booked_on=entry.booked_on.isoformat() if entry.booked_on else None,
    )


def reviewed(entry: BankEntry, reason: ReviewReason, review_id: str) -> EntryResult:
    return EntryResult(
        entry.where,
        Outcome.REVIEW,
        reason.value,
        entry.transaction_id,
        entry.amount,
        entry.amount_cents,
        review_id=review_id,
        detail=entry.detail,
    )


@dataclass(frozen=True)
class ImportResult:
    statement_id: str
    format: str
    first_import: bool
    credits: int
    registered: int
    reviews_opened: int
    already_imported: int
    ignored: int
    entries: tuple[EntryResult, ...]

    @classmethod
    def of(
        cls, statement: Statement, entries: list[EntryResult], opened: int, first: bool
    ) -> "ImportResult":
        def count(outcome: Outcome) -> int:
            return sum(e.outcome is outcome for e in entries)

        return cls(
            statement_id=statement.statement_id,
            format=statement.format,
            first_import=first,
            credits=len(statement.credits),
            registered=count(Outcome.REGISTERED),
            reviews_opened=opened,
            already_imported=count(Outcome.ALREADY_IMPORTED),
            ignored=count(Outcome.IGNORED),
            entries=tuple(entries),
        )

    def counts(self) -> dict[str, Any]:
        """Everything but the entries: what the log keeps."""
        return {k: v for k, v in vars(self).items() if k != "entries"}

    def record(self) -> dict[str, Any]:
        """What the statement's record keeps of its first import."""
        skipped = {"statement_id", "first_import", "already_imported"}
        return {k: v for k, v in self.counts().items() if k not in skipped}
