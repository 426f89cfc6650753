"""SWIFT MT940 customer statements, as many Italian and European banks still deliver them,
read through the ``mt-940`` library: each ``:20:`` block is a statement, each ``:61:`` line an
entry, its ``:86:`` the remittance text.

A credit (``C``) becomes a ``BankEntry``; debits (``D``) and reversals (``RC``, ``RD``) are
ignored, as are zero amounts. The reference is the bank's (``//`` in ``:61:``), else the
account owner's reference of ``:61:`` unless ``NONREF``, else one derived from the statement
(``:20:`` and ``:28C:``), the position, the amount and the date.
"""

import io
import logging
from datetime import date
from decimal import Decimal
from typing import Any

import mt940

from rinnovo.payments.adapters.statement_formats import FileFormat, without_bom
from rinnovo.payments.domain.money import MAX_CENTS, euro
from rinnovo.payments.domain.statements import (
    MAX_PAYER,
    MAX_REFERENCE,
    BankEntry,
    Ignored,
    IgnoredEntry,
    InvalidStatement,
    Lines,
    Problem,
    Statement,
    derived_reference,
    joined_text,
    money_of,
)

FORMAT = "mt940"
NO_REFERENCE = "NONREF"
REMITTANCE_KEYS = ("purpose", "transaction_details", "end_to_end_reference", "extra_details")
OPTIONS = mt940.Options.all()

# The library logs each field it cannot read, with the field's content (names, IBANs) at
# ERROR: the problem is answered to the operator instead.
logging.getLogger("mt940").setLevel(logging.CRITICAL)


def recognises(data: bytes) -> bool:
    head = without_bom(data)[:2048]
    return head.startswith((b":20:", b"{1:")) or b"\n:20:" in head


def parse_mt940(data: bytes) -> Statement:
    try:
        # A file object, never bytes: the library reads bytes that name a file as a path.
        blocks = mt940.parse_statements(io.BytesIO(data), options=OPTIONS)
    except Exception as exc:  # the library raises whatever reading a field raised
        raise InvalidStatement([_unreadable(exc)]) from exc
    if not blocks:
        raise InvalidStatement([Problem("file", "not an MT940 statement: no :20: field")])
    problems: list[Problem] = []
    lines = Lines()
    first_id = ""
    for i, block in enumerate(blocks, 1):
        where = f"statement {i}"
        head = block.data
        account = _text(head.get("account_identification"))
        if not account or len(account) > MAX_REFERENCE:
            problems.append(Problem(f"{where} :25:", "missing or too long account"))
        number = "/".join(_text(head.get(k)) for k in ("statement_number", "sequence_number"))
        identity = f"{_text(head.get('transaction_reference'))}/{number}"
        first_id = first_id or identity
        for k, tx in enumerate(block, 1):
            _transaction(tx.data, f"{where} :61:[{k}]", account, identity, lines, problems)
    settled, repeated = lines.settled()
    if problems or repeated:
        raise InvalidStatement(problems + repeated)
    return Statement(f"mt940-{first_id}", FORMAT, settled)


def _transaction(
    data: dict[str, Any],
    where: str,
    account: str,
    identity: str,
    lines: Lines,
    problems: list[Problem],
) -> None:
    amount = data.get("amount")
    currency = _text(data.get("currency")) or ""
    if amount is None or "status" not in data:
        problems.append(Problem(where, "no :61: statement line"))
        return
    value: Decimal = abs(amount.amount)
    written = f"{value} {currency}".strip()
    if value * 100 > MAX_CENTS:
        problems.append(Problem(where, f"{written} is above the largest amount, {euro(MAX_CENTS)}"))
        return
    if not currency:
        problems.append(Problem(where, "no currency: the opening balance :60F: is missing"))
        return
    found = data.get("entry_date") or data.get("date")
    day = date(found.year, found.month, found.day) if isinstance(found, date) else None
    bank_reference = _text(data.get("bank_reference"))
    own_reference = _text(data.get("customer_reference"))
    because = _ignored(str(data["status"]).upper(), value)
    if because is not None:
        lines.ignored(IgnoredEntry(where, because, written, bank_reference or own_reference))
        return
    strong = bool(bank_reference)
    if own_reference.upper() == NO_REFERENCE:
        own_reference = ""
    reference = bank_reference or (own_reference and f"own:{own_reference}")
    if len(reference) > MAX_REFERENCE:
        problems.append(Problem(where, f"a reference longer than {MAX_REFERENCE} characters"))
        return
    position = where.split(" ", 2)[-1]
    reference = reference or "derived:" + derived_reference(identity, position, written, day)
    money = money_of(value, currency, written)
    entry = BankEntry(
        transaction_id=reference,
        account=account,
        booked_on=day,
        amount_cents=money.cents,
        remittance=joined_text([own_reference, *(_text(data.get(k)) for k in REMITTANCE_KEYS)]),
        payer=joined_text([_text(data.get("applicant_name"))], MAX_PAYER) or None,
        where=where,
        amount=written,
        unusable=money.unusable,
        detail=money.detail,
    )
    lines.credit(entry, bank_reference=strong)


def _ignored(mark: str, value: Decimal) -> Ignored | None:
    """Why a ``:61:`` line is not money received: ``D`` is a debit, ``RC`` and ``RD`` are
    reversals; ``C`` is a credit, unless its amount is zero."""
    if mark == "D":
        return Ignored.DEBIT
    if mark.startswith("R"):
        return Ignored.REVERSAL
    return Ignored.ZERO if value == 0 else None


def _unreadable(exc: Exception) -> Problem:
    tag = next((a for a in exc.args if isinstance(a, mt940.tags.Tag)), None)
    if tag is not None:
        return Problem(f":{tag.id}:", "not written as MT940 defines this field")
    return Problem("file", f"not a readable MT940 statement ({type(exc).__name__})")


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return str(value).strip()


mt940_format = FileFormat(
    name="mt940",
    description="SWIFT MT940 customer statement",
    media_types=("application/x-mt940", "text/plain"),
    suffixes=(".sta", ".mt940", ".940", ".txt"),
    sniff=recognises,
    reader=parse_mt940,
)
