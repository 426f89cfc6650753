"""One ``Ntry`` of a camt.053 statement or camt.054 notification, any version, as lines.

Elements are looked up by local name (the reader strips namespaces first). A value that is
not of its schema type (an amount that is not a number, a date that is not a date, an
unknown indicator or status) is a problem that refuses the file; a credit that is valid but
cannot be reconciled (another currency, a fraction of a cent, transactions that do not add
up to their entry, no amount) becomes a credit marked for review.
"""

import re
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from xml.etree.ElementTree import Element

from rinnovo.payments.domain.matching import ReviewReason
from rinnovo.payments.domain.money import BadAmount, euro, read_amount
from rinnovo.payments.domain.statements import (
    CURRENCY,
    MAX_PAYER,
    MAX_REFERENCE,
    NOT_PROVIDED,
    BankEntry,
    Ignored,
    IgnoredEntry,
    Lines,
    Money,
    Problem,
    derived_reference,
    joined_text,
    money_of,
)

NOT_BOOKED = frozenset({"PDNG", "INFO", "FUTR"})
"""Entry status codes of money not (yet) on the account; ``BOOK`` is the one that is."""
BANK_REFERENCES = ("Refs/AcctSvcrRef", "Refs/TxId", "Refs/UETR")
ENTRY_REFERENCES = ("AcctSvcrRef", "NtryRef")
PAYER_NAMES = ("Dbtr/Nm", "Dbtr/Pty/Nm", "UltmtDbtr/Nm", "UltmtDbtr/Pty/Nm")
TX_AMOUNTS = ("Amt", "AmtDtls/TxAmt/Amt", "AmtDtls/CntrValAmt/Amt")
CURRENCY_CODE = re.compile("[A-Z]{3}")


@dataclass(frozen=True)
class Report:
    """A ``Stmt`` (camt.053) or ``Ntfctn`` (camt.054): what its entries share."""

    account: str
    currency: str | None
    identity: str
    """``Id``, else ``ElctrncSeqNb``, else the message's: names derived references."""


@dataclass(frozen=True)
class Amount:
    value: Decimal
    currency: str
    written: str

    def __str__(self) -> str:
        return f"{self.written} {self.currency}"


def _money(amount: Amount | None) -> Money:
    if amount is None:
        return Money(0, "", ReviewReason.UNUSABLE_AMOUNT, "no amount is given")
    return money_of(amount.value, amount.currency, str(amount))


def _ignored(debit: bool, reversal: bool, booked: bool, amount: Amount | None) -> Ignored | None:
    """Why an entry is not money received, if it is not."""
    if debit:
        return Ignored.DEBIT
    if reversal:
        return Ignored.REVERSAL
    if not booked:
        return Ignored.NOT_BOOKED
    return Ignored.ZERO if amount is not None and amount.value == 0 else None


class EntryReader:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def problem(self, where: str, message: str) -> None:
        self.problems.append(Problem(where, message))

    @staticmethod
    def text(el: Element, path: str) -> str | None:
        found = el.find(path)
        if found is None or found.text is None or not found.text.strip():
            return None
        return found.text.strip()

    def texts(self, el: Element, path: str) -> list[str]:
        return [f.text for f in el.findall(path) if f.text]

    def reference(self, el: Element, path: str, where: str) -> str | None:
        value = self.text(el, path)
        if value is not None and len(value) > MAX_REFERENCE:
            self.problem(f"{where}/{path}", f"longer than {MAX_REFERENCE} characters")
            return None
        return value

    def amount(self, el: Element | None, where: str, fallback: str | None) -> Amount | None:
        if el is None or el.text is None or not el.text.strip():
            return None
        currency = el.get("Ccy") or fallback
        if currency is None or not CURRENCY_CODE.fullmatch(currency):
            self.problem(
                where, f"the currency (Ccy) is {'missing' if currency is None else 'not a code'}"
            )
            return None
        try:
            value = read_amount(el.text)
        except BadAmount as exc:
            self.problem(where, str(exc))
            return None
        if value < 0:
            self.problem(where, "negative: the direction is CdtDbtInd's")
            return None
        return Amount(value, currency, el.text.strip())

    def day(self, el: Element, path: str, where: str) -> date | None:
        value = self.text(el, f"{path}/Dt") or (self.text(el, f"{path}/DtTm") or "")[:10]
        if not value:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.problem(f"{where}/{path}", f"{value!r} is not a date")
            return None

    def entry(self, entry: Element, report: Report, where: str, lines: Lines) -> None:
        before = len(self.problems)
        indicator = self.text(entry, "CdtDbtInd")
        if indicator not in ("CRDT", "DBIT"):
            found = "missing" if indicator is None else f"{indicator!r} is neither CRDT nor DBIT"
            self.problem(f"{where}/CdtDbtInd", found)
        status = self.text(entry, "Sts/Cd") or self.text(entry, "Sts")
        if status is None:
            self.problem(f"{where}/Sts", "missing")
        elif status != "BOOK" and status not in NOT_BOOKED:
            self.problem(f"{where}/Sts", f"{status!r} is not an entry status (BOOK, PDNG, INFO)")
        amount = self.amount(entry.find("Amt"), f"{where}/Amt", report.currency)
        reversal = (self.text(entry, "RvslInd") or "false").lower() in ("true", "1")
        day = self.day(entry, "BookgDt", where) or self.day(entry, "ValDt", where)
        if len(self.problems) > before:
            return
        because = _ignored(indicator == "DBIT", reversal, status == "BOOK", amount)
        if because is not None:
            reference = self.text(entry, "AcctSvcrRef") or self.text(entry, "NtryRef")
            lines.ignored(IgnoredEntry(where, because, str(amount or ""), reference))
            return
        self.credits(entry, report, where, _money(amount), day, lines)

    def credits(
        self,
        entry: Element,
        report: Report,
        where: str,
        money: Money,
        day: date | None,
        lines: Lines,
    ) -> None:
        txs = [tx for d in entry.findall("NtryDtls") for tx in d.findall("TxDtls")]
        details = [(tx, f"{where}/NtryDtls/TxDtls[{k}]") for k, tx in enumerate(txs, 1)]
        if not details:
            details = [(entry, where)]  # an entry without details is its own transaction
        moneys = self.split(details, money, report) if len(details) > 1 else [money]
        entry_refs = [self.reference(entry, p, where) for p in ENTRY_REFERENCES]
        entry_ref = next((r for r in entry_refs if r), None)
        extra = self.texts(entry, "AddtlNtryInf")
        found: list[tuple[BankEntry, bool]] = []
        for k, ((tx, tx_where), tx_money) in enumerate(zip(details, moneys, strict=True), 1):
            position = tx_where.split("/", 1)[-1]
            reference, strong = self.tx_reference(tx, tx_where, entry_ref, k, len(details))
            if reference is None:
                derived = derived_reference(report.identity, position, tx_money.written, day)
                reference = f"derived:{derived}"
            found.append(
                (self.credit(tx, tx_where, report, reference, tx_money, day, extra), strong)
            )
        if len({e.transaction_id for e, _ in found}) < len(found):
            # A bank that repeats one reference on each transaction of a batch: number them.
            found = [(_numbered(e, k), s) for k, (e, s) in enumerate(found, 1)]
        for credit, strong in found:
            lines.credit(credit, bank_reference=strong)

    def tx_reference(
        self, tx: Element, where: str, entry_ref: str | None, k: int, n: int
    ) -> tuple[str | None, bool]:
        """The reference identifying a transaction, in order of preference, and whether it is
        the bank's own (unique) or the payer's."""
        for path in BANK_REFERENCES:
            value = self.reference(tx, path, where)
            if value:
                return value, True
        if entry_ref:
            return (entry_ref if n == 1 else f"{entry_ref}/{k}"), True
        end_to_end = self.reference(tx, "Refs/EndToEndId", where)
        if end_to_end and end_to_end.upper() != NOT_PROVIDED:
            return f"e2e:{end_to_end}", False
        proprietary = self.reference(tx, "Refs/Prtry/Ref", where)
        return (f"prtry:{proprietary}", False) if proprietary else (None, False)

    def credit(
        self,
        tx: Element,
        where: str,
        report: Report,
        reference: str,
        money: Money,
        day: date | None,
        extra: list[str],
    ) -> BankEntry:
        end_to_end = self.text(tx, "Refs/EndToEndId")
        remittance = joined_text(
            [
                *self.texts(tx, "RmtInf/Ustrd"),
                *self.texts(tx, "RmtInf/Strd/CdtrRefInf/Ref"),
                *self.texts(tx, "RmtInf/Strd/AddtlRmtInf"),
                end_to_end if end_to_end and end_to_end.upper() != NOT_PROVIDED else None,
                *self.texts(tx, "AddtlTxInf"),
                *extra,
            ]
        )
        payers = [self.text(tx, f"RltdPties/{path}") for path in PAYER_NAMES]
        payer = next((joined_text([p], MAX_PAYER) for p in payers if p), None)
        return BankEntry(
            transaction_id=reference,
            account=report.account,
            booked_on=day,
            amount_cents=money.cents,
            remittance=remittance,
            payer=payer,
            where=where,
            amount=money.written,
            unusable=money.unusable,
            detail=money.detail,
        )

    def split(
        self, details: list[tuple[Element, str]], entry: Money, report: Report
    ) -> list[Money]:
        """The money of each transaction of a batch entry: its own amount in euro, when the
        amounts add up to the entry's; otherwise each goes to review, saying why."""
        moneys = [_money(self.tx_amount(tx, where, report)) for tx, where in details]
        if entry.unusable is not None:
            return [
                replace(
                    m,
                    written=m.written or entry.written,
                    unusable=entry.unusable,
                    detail=entry.detail,
                )
                for m in moneys
            ]
        total = sum(m.cents for m in moneys)
        if all(m.unusable is None for m in moneys) and total == entry.cents:
            return moneys
        detail = (
            f"the transactions of this entry ({euro(total)} {CURRENCY} read) do not add up to "
            f"its amount ({entry.written}); "
        )
        reason = ReviewReason.UNUSABLE_AMOUNT
        return [Money(m.cents, m.written, reason, detail + (m.detail or "")) for m in moneys]

    def tx_amount(self, tx: Element, where: str, report: Report) -> Amount | None:
        """The transaction's amount in euro when one of its amounts is, else the first."""
        read = [self.amount(tx.find(p), f"{where}/{p}", report.currency) for p in TX_AMOUNTS]
        present = [a for a in read if a is not None]
        return next((a for a in present if a.currency == CURRENCY), present[0] if present else None)


def _numbered(entry: BankEntry, k: int) -> BankEntry:
    return replace(entry, transaction_id=f"{entry.transaction_id}/{k}")
