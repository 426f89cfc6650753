"""The envelope every message carries, whatever its payload."""

from typing import Annotated, Any
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

NonEmpty = Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]
Cents = Annotated[int, Field(ge=0, strict=True, description="Amount in euro cents.")]


class Contract(BaseModel):
    """Base of every published model: immutable, tolerant of fields added later."""

    model_config = ConfigDict(frozen=True, extra="ignore")


def version(number: int) -> Any:
    """The published version of its schema an event class emits, as its ``schema_version``:
    ``schema_version: int = version(2)``. A changed model is published as the next version
    (``make contracts``), which must stay compatible with every earlier one."""
    return Field(default=number, ge=1, description="Version of this type's schema.")


def _require_type(schema: dict[str, Any]) -> None:
    """Every event carries its ``type`` (consumers dispatch on it), although each class gives
    it a default: the published schema says so."""
    required = {*schema.get("required", ()), "type"}
    schema["required"] = [name for name in schema["properties"] if name in required]


class Event(Contract):
    """Envelope fields shared by all events; subclasses fix ``type`` and ``payload``.

    Subclasses declare ``type`` as a one-value ``Literal`` with that value as default, so
    a topic's events form a discriminated union. The Kafka record also carries the
    CloudEvents binary-mode headers (``ce_id``, ``ce_type``, ``ce_source``, ``ce_time``,
    ``ce_subject``) derived from these fields, so routers can act without parsing the body.
    """

    model_config = ConfigDict(json_schema_extra=_require_type)

    event_id: UUID = Field(description="Unique id of this event; consumers deduplicate on it.")
    type: str = Field(description="Event type, e.g. `catalog.product.snapshot`.")
    schema_version: int = version(1)
    occurred_at: AwareDatetime = Field(description="When it happened.")
    producer: NonEmpty = Field(description="Service that produced the event.")
    aggregate_id: NonEmpty = Field(description="Id of the aggregate; also the Kafka key.")
    aggregate_version: int = Field(
        ge=1, description="Version of the aggregate after this event; grows with each change."
    )
    correlation_id: NonEmpty = Field(description="Id of the request or flow this belongs to.")
    causation_id: str | None = Field(
        default=None, description="Id of the event or request that caused this one."
    )
    payload: Any

    @classmethod
    def event_type(cls) -> str:
        """The fixed ``type`` value of a concrete event class."""
        default = cls.model_fields["type"].default
        if not isinstance(default, str):
            raise TypeError(f"{cls.__name__} does not fix its event type")
        return default
