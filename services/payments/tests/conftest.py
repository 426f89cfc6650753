"""The payments service on in-memory stores (``rinnovo.testing.payments``): no server, a
clock moved by hand, Stripe played by a script."""

import pytest

from rinnovo.runtime.clock import FixedClock
from rinnovo.testing.payments import START, PaymentsService, in_memory


@pytest.fixture
def payments() -> PaymentsService:
    return in_memory(FixedClock(START))
