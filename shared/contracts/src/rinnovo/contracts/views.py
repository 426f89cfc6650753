"""What a consumer reads of an event: its own pydantic view, declared beside its code.

A consuming service lists, in ``rinnovo/<service>/consumed.py``, a view of each event type
it acts on, holding only the fields it reads, typed as it needs them (``VIEWS``, by event
type). ``rinnovo contracts check`` holds every published version of the event against every
view, so a producer's change names the consumer it would break.
"""

from collections.abc import Mapping
from uuid import UUID

from pydantic import BaseModel, ConfigDict


class View(BaseModel):
    """A consumer's view: only what it reads; everything else is ignored."""

    model_config = ConfigDict(frozen=True, extra="ignore")


class EventView(View):
    """The envelope fields every consumer reads: the id it deduplicates on, the type it
    dispatches on, the flow its own events carry on."""

    event_id: UUID
    type: str
    correlation_id: str


ConsumerViews = Mapping[str, type[View]]
"""Event type -> the view the consumer reads of it."""
