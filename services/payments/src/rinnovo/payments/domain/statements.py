"""Bank statements, whatever their file format: one line per entry of the file.

A credit (``BankEntry``) is money received: reconciled with an order, or, when it cannot be
(another currency, no amount in whole cents), opened as a review item. Debits, reversals,
entries not yet booked and zero amounts are ``IgnoredEntry`` lines. Only a file that cannot
be trusted as a whole (not the format, a value that is not of its type, a repeated bank
reference, an amount above the bound) is refused, with each problem named by its place.
"""

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from enum import StrEnum

from rinnovo.payments.domain.matching import ReviewReason
from rinnovo.payments.domain.money import exact_cents

MAX_REFERENCE = 140
"""Longer references are refused: they become ids in the database."""
MAX_REMITTANCE = 1000
"""Remittance text kept per credit (a longer one is cut here)."""
MAX_PAYER = 140
NOT_PROVIDED = "NOTPROVIDED"
"""What SEPA writes where the payer gave no end-to-end reference."""
CURRENCY = "EUR"
"""The one currency reconciled: orders are priced in euro."""


class Ignored(StrEnum):
    """Why an entry of a statement is not money received."""

    DEBIT = "debit"
    REVERSAL = "reversal"
    NOT_BOOKED = "not_booked"
    ZERO = "zero"


@dataclass(frozen=True)
class BankEntry:
    """One incoming transfer (a credit) on the beneficiary's account."""

    transaction_id: str
    """The bank's own reference of the transaction when there is one, else the best
    reference the file has (see each format's reader): a re-import is recognised by it."""
    account: str
    booked_on: date | None
    amount_cents: int
    """Euro cents received. For an unusable credit: the whole cents known to have arrived
    in euro (rounded down), else 0."""
    remittance: str
    payer: str | None = None
    where: str = ""
    """Its place in the file: ``Stmt[1]/Ntry[3]``, ``line 7``, ..."""
    amount: str = ""
    """The amount as written in the file, with its currency."""
    unusable: ReviewReason | None = None
    """Set when the credit cannot be reconciled automatically: it goes to review."""
    detail: str = ""

    @property
    def source(self) -> str:
        return f"bank:{self.account}:{self.transaction_id}"


@dataclass(frozen=True)
class IgnoredEntry:
    where: str
    reason: Ignored
    amount: str
    reference: str | None = None


Line = BankEntry | IgnoredEntry


@dataclass(frozen=True)
class Statement:
    statement_id: str
    """The bank's id of the statement (or of the file)."""
    format: str
    lines: tuple[Line, ...]

    @property
    def credits(self) -> tuple[BankEntry, ...]:
        return tuple(line for line in self.lines if isinstance(line, BankEntry))

    @property
    def ignored(self) -> int:
        """Debits, unbooked, reversed and zero entries: not money received."""
        return sum(isinstance(line, IgnoredEntry) for line in self.lines)


@dataclass(frozen=True)
class Problem:
    where: str
    """``line 7`` of a CSV file, or an element path like ``Stmt[1]/Ntry[3]/Amt``."""
    message: str


class InvalidStatement(ValueError):
    """The file cannot be imported as it is; nothing of it was."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(f"{p.where}: {p.message}" for p in problems))
        self.problems = problems


def derived_reference(statement: str, position: str, amount: str, day: date | None) -> str:
    """A stable identity for a credit whose file gives no reference at all: the same file
    imported again gives the same one."""
    return f"{statement}:{position}:{amount}:{day.isoformat() if day else '-'}"


def joined_text(parts: Iterable[str | None], limit: int = MAX_REMITTANCE) -> str:
    """The distinct non-empty texts, in order, joined by spaces and cut at ``limit``."""
    seen: list[str] = []
    for part in parts:
        cleaned = " ".join((part or "").split())
        if cleaned and cleaned not in seen:
            seen.append(cleaned)
    return " ".join(seen)[:limit]


@dataclass(frozen=True)
class Money:
    """What a credit brings, in whole euro cents, or why it cannot be reconciled."""

    cents: int
    written: str
    unusable: ReviewReason | None = None
    detail: str = ""


def money_of(value: Decimal, currency: str, written: str) -> Money:
    """A credit's positive amount: exact euro cents, or a reason to review it."""
    if currency != CURRENCY:
        detail = f"{written}: only credits in {CURRENCY} are reconciled"
        return Money(0, written, ReviewReason.FOREIGN_CURRENCY, detail)
    cents = exact_cents(value)
    if cents is None:
        detail = f"{written} has a fraction of a cent"
        return Money(int(value * 100), written, ReviewReason.UNUSABLE_AMOUNT, detail)
    return Money(cents, written)


class Lines:
    """The lines of a file as its reader finds them, made unique by reference at the end."""

    def __init__(self) -> None:
        self._lines: list[Line] = []
        self._weak: set[int] = set()

    def credit(self, entry: BankEntry, bank_reference: bool = True) -> None:
        if not bank_reference:
            self._weak.add(len(self._lines))
        self._lines.append(entry)

    def ignored(self, entry: IgnoredEntry) -> None:
        self._lines.append(entry)

    def settled(self) -> tuple[tuple[Line, ...], list[Problem]]:
        """A bank reference is unique: seen twice, the file is wrong (one of the two would be
        taken for the other). Any other reference (a payer's end-to-end id, a derived one)
        may repeat: each repeat gets ``#n`` by its order, stable on a re-import."""
        first_at: dict[str, str] = {}
        problems: list[Problem] = []
        out: list[Line] = []
        for i, line in enumerate(self._lines):
            if isinstance(line, BankEntry):
                base, n = line, 1
                while line.source in first_at and i in self._weak:
                    n += 1
                    line = replace(base, transaction_id=f"{base.transaction_id}#{n}")
                if line.source in first_at:
                    first = first_at[line.source]
                    message = f"bank reference {line.transaction_id!r} repeated (first at {first})"
                    problems.append(Problem(line.where, message))
                first_at.setdefault(line.source, line.where)
            out.append(line)
        return tuple(out), problems
