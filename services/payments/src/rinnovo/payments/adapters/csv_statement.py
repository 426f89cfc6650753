"""The simple CSV statement: one incoming transfer per line, with a header line.

    transaction_id,date,amount,remittance[,currency][,payer][,account]
    TX-0001,2026-03-02,122.00,Ordine RN-2026-000123,EUR,Studio Rossi,IT60X0542811101000000123456

``transaction_id`` is the bank's unique reference (a re-import is recognised by it); ``date``
is ``YYYY-MM-DD`` or ``DD/MM/YYYY``; ``amount`` uses a dot or a comma for the decimals and no
separator of thousands; a negative amount is money out and a zero one is nothing: both are
ignored. A credit in another currency, or with a fraction of a cent, goes to review. ``;``
may replace ``,`` as the delimiter (the Italian spreadsheet default).
"""

import csv
import hashlib
import io
from datetime import date, datetime
from decimal import Decimal

from rinnovo.payments.adapters.statement_formats import FileFormat, without_bom
from rinnovo.payments.domain.money import BadAmount, read_amount
from rinnovo.payments.domain.statements import (
    CURRENCY,
    MAX_PAYER,
    MAX_REFERENCE,
    BankEntry,
    Ignored,
    IgnoredEntry,
    InvalidStatement,
    Line,
    Lines,
    Problem,
    Statement,
    joined_text,
    money_of,
)

REQUIRED = ("transaction_id", "date", "amount", "remittance")
FORMAT = "csv"
DEFAULT_ACCOUNT = "csv"


def _day(text: str) -> date:
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text.strip(), pattern).date()
        except ValueError:
            continue
    raise ValueError(f"{text!r} is not a date (YYYY-MM-DD or DD/MM/YYYY)")


def parse_csv(data: bytes) -> Statement:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidStatement([Problem("file", f"not UTF-8 text ({exc.reason})")]) from exc
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    # newline="": the csv module itself splits lines, whether they end in \n, \r\n or \r.
    rows = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    problems: list[Problem] = []
    try:
        header = [h.strip().lower() for h in next(rows)]
    except StopIteration:
        raise InvalidStatement([Problem("line 1", "empty file: a header line is needed")]) from None
    except csv.Error as exc:
        raise InvalidStatement([Problem("line 1", f"not valid CSV ({exc})")]) from exc
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise InvalidStatement([Problem("line 1", f"missing columns: {', '.join(missing)}")])
    lines = Lines()
    try:
        for row in rows:
            where = f"line {rows.line_num}"
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                problems.append(Problem(where, f"{len(row)} fields, the header has {len(header)}"))
                continue
            cells = dict(zip(header, (c.strip() for c in row), strict=True))
            line = _row(cells, where, problems)
            if isinstance(line, BankEntry):
                lines.credit(line)
            elif line is not None:
                lines.ignored(line)
    except csv.Error as exc:
        problems.append(Problem(f"line {rows.line_num}", f"not valid CSV ({exc})"))
    settled, repeated = lines.settled()
    if problems or repeated:
        raise InvalidStatement(problems + repeated)
    statement_id = "csv-" + hashlib.sha256(data).hexdigest()[:16]
    return Statement(statement_id, FORMAT, settled)


def _row(cells: dict[str, str], where: str, problems: list[Problem]) -> Line | None:
    before = len(problems)
    transaction_id = cells["transaction_id"]
    if not transaction_id or len(transaction_id) > MAX_REFERENCE:
        problem = "missing" if not transaction_id else f"longer than {MAX_REFERENCE} characters"
        problems.append(Problem(f"{where}, column transaction_id", problem))
    currency = (cells.get("currency") or CURRENCY).upper()
    if not (len(currency) == 3 and currency.isascii() and currency.isalpha()):
        problems.append(Problem(f"{where}, column currency", f"{currency[:10]!r} is not a code"))
    account = cells.get("account") or DEFAULT_ACCOUNT
    if len(account) > MAX_REFERENCE:
        problems.append(Problem(f"{where}, column account", f"over {MAX_REFERENCE} characters"))
    booked_on: date | None = None
    try:
        booked_on = _day(cells["date"])
    except ValueError as exc:
        problems.append(Problem(f"{where}, column date", str(exc)))
    value = Decimal(0)
    try:
        value = read_amount(cells["amount"])
    except BadAmount as exc:
        problems.append(Problem(f"{where}, column amount", str(exc)))
    if len(problems) > before:
        return None
    written = f"{cells['amount']} {currency}"
    if value <= 0:
        because = Ignored.DEBIT if value < 0 else Ignored.ZERO
        return IgnoredEntry(where, because, written, transaction_id)
    money = money_of(value, currency, written)
    return BankEntry(
        transaction_id=transaction_id,
        account=account,
        booked_on=booked_on,
        amount_cents=money.cents,
        remittance=joined_text([cells["remittance"]]),
        payer=joined_text([cells.get("payer")], MAX_PAYER) or None,
        where=where,
        amount=written,
        unusable=money.unusable,
        detail=money.detail,
    )


csv_format = FileFormat(
    name="csv",
    description="CSV: a header naming at least transaction_id, date, amount and remittance",
    media_types=("text/csv", "application/csv"),
    suffixes=(".csv",),
    sniff=lambda data: b"transaction_id" in without_bom(data)[:1024].split(b"\n", 1)[0].lower(),
    reader=parse_csv,
)
