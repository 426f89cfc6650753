"""What the e-invoicing panel reports to us."""

from typing import Literal

from pydantic import AwareDatetime, Field

from rinnovo.contracts.envelope import Contract, Event, NonEmpty
from rinnovo.contracts.topic_spec import TopicSpec


class UsageReportedPayload(Contract):
    service_id: NonEmpty
    used_bytes: int = Field(ge=0, strict=True, description="Storage in use, in bytes.")
    measured_at: AwareDatetime


class UsageReported(Event):
    """The panel's latest measure of a service's storage; aggregate_version grows with
    each measure of one service, so an older measure never overrides a newer one."""

    type: Literal["panel.usage.reported"] = "panel.usage.reported"
    payload: UsageReportedPayload


PANEL_USAGE = TopicSpec(
    name="panel.usage.v1",
    producer="panel",
    events=(UsageReported,),
    description="Storage usage measured by the e-invoicing panel, keyed by service id.",
)
