"""Integer cents and the one rounding rule the catalog allows (half up)."""

from fractions import Fraction

BASIS_POINTS = 10_000


def round_half_up(amount: Fraction) -> int:
    """Round a non-negative exact amount of cents to the nearest cent, halves up."""
    if amount < 0:
        raise ValueError("amounts are never negative")
    whole, rest = divmod(amount.numerator, amount.denominator)
    return whole + (1 if 2 * rest >= amount.denominator else 0)


def share(cents: int, basis_points: int) -> int:
    """``basis_points`` / 10 000 of an amount, rounded half up (VAT, percent discounts)."""
    return round_half_up(Fraction(cents * basis_points, BASIS_POINTS))
