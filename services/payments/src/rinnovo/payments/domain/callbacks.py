"""Provider callbacks acted on, by the provider's event id: a replay is answered from the
record (the payment's own state is what keeps a replay from changing anything)."""

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class ProcessedCallback:
    callback_id: str
    """``<provider>:<the provider's event id>``."""
    outcome: str
    processed_at: datetime
