"""A topic of the published catalog: its name, producer, events and retention."""

from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import Field, TypeAdapter

from rinnovo.contracts.envelope import Event

DLT_SUFFIX = ".DLT"


@dataclass(frozen=True)
class TopicSpec:
    name: str
    producer: str
    events: tuple[type[Event], ...]
    compacted: bool = False
    description: str = ""
    payload_type: Any = field(init=False, repr=False, compare=False)
    """The topic's events as one type: a union discriminated by ``type``."""
    _adapter: TypeAdapter[Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        union: Any = self.events[0]
        for event in self.events[1:]:
            union = union | event
        if len(self.events) > 1:
            union = Annotated[union, Field(discriminator="type")]
        object.__setattr__(self, "payload_type", union)
        object.__setattr__(self, "_adapter", TypeAdapter(union))

    @property
    def dead_letter(self) -> str:
        return self.name + DLT_SUFFIX

    def event_types(self) -> tuple[str, ...]:
        return tuple(e.event_type() for e in self.events)

    def parse(self, raw: bytes | str) -> Event:
        """Validate a message body as one of this topic's events (raises on anything else)."""
        event: Event = self._adapter.validate_json(raw)
        return event
