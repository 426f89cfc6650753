"""Amounts, dates, sizes and languages as customers read them."""

from datetime import UTC, date, datetime

import pytest

from rinnovo.notifier.domain.formatting import Cents, data, euro, gigabytes, percent_used
from rinnovo.runtime.locales import choose_locale


@pytest.mark.parametrize(
    ("cents", "shown"),
    [
        (0, "0,00 €"),
        (5, "0,05 €"),
        (99, "0,99 €"),
        (100, "1,00 €"),
        (123456, "1.234,56 €"),
        (100_000_000, "1.000.000,00 €"),
        (123_456_789_01, "123.456.789,01 €"),
        (-123456, "-1.234,56 €"),
        (Cents(2550), "25,50 €"),
    ],
)
def test_euro_the_italian_way(cents: int, shown: str) -> None:
    assert euro(cents) == shown


@pytest.mark.parametrize("not_cents", [12.5, "1234", None, True])
def test_euro_takes_integer_cents_only(not_cents: object) -> None:
    with pytest.raises(TypeError):
        euro(not_cents)  # type: ignore[arg-type]


def test_dates_are_gg_mm_aaaa_and_instants_rome_dates() -> None:
    assert data(date(2027, 3, 5)) == "05/03/2027"
    # 23:30 UTC on 16 March is already 17 March in Rome.
    assert data(datetime(2027, 3, 16, 23, 30, tzinfo=UTC)) == "17/03/2027"
    with pytest.raises(ValueError, match="timezone"):
        data(datetime(2027, 3, 16, 23, 30))


@pytest.mark.parametrize(
    ("n_bytes", "shown"),
    [
        (0, "0,00 GB"),
        (850_000_000, "0,85 GB"),
        (4_994_999_999, "4,99 GB"),
        (4_995_000_000, "5,00 GB"),  # half up
        (1_234_000_000_000, "1.234,00 GB"),
    ],
)
def test_gigabytes(n_bytes: int, shown: str) -> None:
    assert gigabytes(n_bytes) == shown


def test_percent_used_rounds_down() -> None:
    assert percent_used(4_249_999_999, 5_000_000_000) == 84
    assert percent_used(5, 0) == 100


@pytest.mark.parametrize(
    ("requested", "chosen"),
    [
        ("it", "it"),
        ("en", "en"),
        ("EN", "en"),
        ("en-GB", "en"),
        ("en_US", "en"),
        ("de", "it"),
        ("", "it"),
        (None, "it"),
        ("  fr-CA ", "it"),
    ],
)
def test_unknown_languages_fall_back_to_italian(requested: str | None, chosen: str) -> None:
    assert choose_locale(requested) == chosen


def test_the_default_language_is_configurable_among_those_with_templates() -> None:
    assert choose_locale("de", default="en") == "en"
    with pytest.raises(ValueError, match="templates"):
        choose_locale("it", default="de")
