"""Amounts are integer euro cents; text amounts are read through ``Decimal``, never floats."""

import re
from decimal import Decimal, InvalidOperation

_PLAIN_AMOUNT = re.compile(r"^-?\d+([.,]\d{1,2})?$")


class BadAmount(ValueError):
    pass


def cents_from_text(text: str) -> int:
    """``"120.50"`` (or ``"120,50"``) is 12050; more than two decimals or separators of
    thousands are refused rather than guessed."""
    cleaned = text.strip()
    if not _PLAIN_AMOUNT.match(cleaned):
        raise BadAmount(f"{text!r} is not an amount like 120.50")
    try:
        value = Decimal(cleaned.replace(",", "."))
    except InvalidOperation as exc:  # pragma: no cover - the pattern already guards this
        raise BadAmount(f"{text!r} is not an amount") from exc
    return int(value * 100)


def euro(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole}.{part:02d}"
