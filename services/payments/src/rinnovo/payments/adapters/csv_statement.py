"""The simple CSV statement: one incoming transfer per line, with a header line.

    transaction_id,date,amount,remittance[,currency][,payer][,account]
    TX-0001,2026-03-02,122.00,Ordine RN-2026-000123,EUR,Studio Rossi,IT60X0542811101000000123456

``transaction_id`` is the bank's unique reference (a re-import is recognised by it); ``date``
is ``YYYY-MM-DD`` or ``DD/MM/YYYY``; ``amount`` uses a dot or a comma for the cents and no
separator of thousands; a negative amount is money out and is ignored. ``;`` may replace
``,`` as the delimiter (the Italian spreadsheet default).
"""

import csv
import hashlib
import io
from datetime import date, datetime

from rinnovo.payments.domain.money import BadAmount, cents_from_text
from rinnovo.payments.domain.statements import BankEntry, InvalidStatement, Problem, Statement

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
    credits: list[BankEntry] = []
    ignored = 0
    seen: set[str] = set()
    try:
        for row in rows:
            where = f"line {rows.line_num}"
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                problems.append(Problem(where, f"{len(row)} fields, the header has {len(header)}"))
                continue
            cells = dict(zip(header, (c.strip() for c in row), strict=True))
            entry, skipped = _row(cells, where, problems)
            ignored += skipped
            if entry is None:
                continue
            if entry.source in seen:
                problems.append(Problem(f"{where}, column transaction_id", "repeated"))
            seen.add(entry.source)
            credits.append(entry)
    except csv.Error as exc:
        problems.append(Problem(f"line {rows.line_num}", f"not valid CSV ({exc})"))
    if problems:
        raise InvalidStatement(problems)
    statement_id = "csv-" + hashlib.sha256(data).hexdigest()[:16]
    return Statement(statement_id, FORMAT, tuple(credits), ignored)


def _row(
    cells: dict[str, str], where: str, problems: list[Problem]
) -> tuple[BankEntry | None, int]:
    before = len(problems)
    transaction_id = cells["transaction_id"]
    if not transaction_id:
        problems.append(Problem(f"{where}, column transaction_id", "missing"))
    currency = cells.get("currency") or "EUR"
    if currency.upper() != "EUR":
        problems.append(Problem(f"{where}, column currency", f"{currency!r}: only EUR"))
    booked_on: date | None = None
    try:
        booked_on = _day(cells["date"])
    except ValueError as exc:
        problems.append(Problem(f"{where}, column date", str(exc)))
    cents = 0
    try:
        cents = cents_from_text(cells["amount"])
    except BadAmount as exc:
        problems.append(Problem(f"{where}, column amount", str(exc)))
    if len(problems) > before or booked_on is None:
        return None, 0
    if cents < 0:
        return None, 1  # money out
    if cents == 0:
        problems.append(Problem(f"{where}, column amount", "an amount must not be zero"))
        return None, 0
    entry = BankEntry(
        transaction_id=transaction_id,
        account=cells.get("account") or DEFAULT_ACCOUNT,
        booked_on=booked_on,
        amount_cents=cents,
        remittance=cells["remittance"],
        payer=cells.get("payer") or None,
    )
    return entry, 0
