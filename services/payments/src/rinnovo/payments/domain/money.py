"""Amounts are integer euro cents; text amounts are read through ``Decimal``, never floats."""

import re
from decimal import Decimal

_PLAIN_AMOUNT = re.compile(r"^[+-]?\d+([.,]\d+)?$")
_MAX_TEXT = 40

MAX_CENTS = 100_000_000_000
"""One billion euro: more than any single transfer this business receives, and far below
both a 64-bit integer (what MongoDB stores) and 2^53 (what a JSON client reads exactly)."""


class BadAmount(ValueError):
    pass


def read_amount(text: str) -> Decimal:
    """The exact value of ``"120.50"``, ``"120,50"`` or ``"8.850"``; separators of thousands,
    exponents and amounts above ``MAX_CENTS`` are refused rather than guessed."""
    cleaned = text.strip()
    if len(cleaned) > _MAX_TEXT or not _PLAIN_AMOUNT.match(cleaned):
        raise BadAmount(f"{text[:_MAX_TEXT]!r} is not an amount like 120.50")
    value = Decimal(cleaned.replace(",", "."))
    if abs(value) * 100 > MAX_CENTS:
        raise BadAmount(f"{cleaned} is above the largest amount accepted, {euro(MAX_CENTS)}")
    return value


def exact_cents(value: Decimal) -> int | None:
    """``Decimal("8.850")`` is 885; a value with a fraction of a cent has no exact cents."""
    cents = value * 100
    return int(cents) if cents == cents.to_integral_value() else None


def cents_from_text(text: str) -> int:
    """Exact cents of a text amount; a fraction of a cent is refused."""
    cents = exact_cents(read_amount(text))
    if cents is None:
        raise BadAmount(f"{text.strip()!r} has a fraction of a cent")
    return cents


def euro(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole}.{part:02d}"
