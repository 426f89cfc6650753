from datetime import UTC, date, datetime, timedelta

from rinnovo.runtime.clock import FixedClock, ShiftedClock, end_of_rome_day, rome_date


def test_a_rome_day_ends_at_local_midnight_whatever_the_season() -> None:
    # Winter: UTC+1; summer: UTC+2; the night clocks go forward (29 March 2026) too.
    assert end_of_rome_day(date(2026, 1, 31)) == datetime(2026, 1, 31, 23, tzinfo=UTC)
    assert end_of_rome_day(date(2026, 7, 31)) == datetime(2026, 7, 31, 22, tzinfo=UTC)
    assert end_of_rome_day(date(2026, 3, 28)) == datetime(2026, 3, 28, 23, tzinfo=UTC)
    assert end_of_rome_day(date(2026, 3, 29)) == datetime(2026, 3, 29, 22, tzinfo=UTC)


def test_the_rome_date_of_an_instant() -> None:
    assert rome_date(datetime(2026, 6, 30, 22, 30, tzinfo=UTC)) == date(2026, 7, 1)
    assert rome_date(datetime(2026, 6, 30, 21, 59, tzinfo=UTC)) == date(2026, 6, 30)


def test_clocks_move_forward_on_demand() -> None:
    fixed = FixedClock(datetime(2026, 1, 1, tzinfo=UTC))
    fixed.advance(timedelta(days=400))
    assert fixed.now() == datetime(2027, 2, 5, tzinfo=UTC)
    shifted = ShiftedClock()
    before = shifted.now()
    shifted.advance(timedelta(days=30))
    assert shifted.now() - before >= timedelta(days=30)
