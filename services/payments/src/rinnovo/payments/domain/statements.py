"""Bank statements, whatever their file format: the credits to reconcile."""

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class BankEntry:
    """One incoming transfer (a credit) on the beneficiary's account."""

    transaction_id: str
    """The bank's own unique reference of the transaction: a re-import is recognised by it."""
    account: str
    booked_on: date
    amount_cents: int
    remittance: str
    payer: str | None = None

    @property
    def source(self) -> str:
        return f"bank:{self.account}:{self.transaction_id}"


@dataclass(frozen=True)
class Statement:
    statement_id: str
    """The bank's id of the statement (or of the file)."""
    format: str
    credits: tuple[BankEntry, ...]
    ignored: int
    """Debits, unbooked and reversed entries: not money received."""


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
