"""What a channel plugin is: a factory of channels, each finding targets, preparing content
and making one delivery attempt at a time. Retries, back-off and records are not its job."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from rinnovo.notifier.domain.delivery import Outcome
from rinnovo.notifier.domain.endpoints import Endpoint
from rinnovo.notifier.domain.messages import Message
from rinnovo.notifier.domain.notifications import Target
from rinnovo.notifier.rendering import Renderer
from rinnovo.notifier.settings import NotifierSettings
from rinnovo.runtime.clock import Clock

CHANNELS_GROUP = "rinnovo.notifier.channels"


@dataclass(frozen=True)
class Delivery:
    """One attempt, as the channel needs it."""

    notification_id: str
    template: str
    target: Target
    recipient_name: str
    locale: str
    content: Mapping[str, str]
    attempt: int


class Channel(Protocol):
    name: str

    async def targets(self, message: Message) -> Sequence[Target]:
        """Where this message goes on this channel; none is fine."""
        ...

    def prepare(self, message: Message, notification_id: str, target: Target) -> dict[str, str]:
        """The content to store and send on every attempt; raises ``CannotNotify``."""
        ...

    async def send(self, delivery: Delivery) -> Outcome:
        """One attempt. Expected failures are outcomes, not exceptions."""
        ...

    async def close(self) -> None: ...


class EndpointDirectory(Protocol):
    async def subscribed_to(self, template: str) -> list[Endpoint]: ...

    async def get(self, endpoint_id: str) -> Endpoint | None: ...


@dataclass(frozen=True)
class ChannelContext:
    """What the notifier offers every channel it builds."""

    settings: NotifierSettings
    renderer: Renderer
    endpoints: EndpointDirectory
    clock: Clock


@runtime_checkable
class ChannelPlugin(Protocol):
    name: str
    description: str

    def build(self, context: ChannelContext) -> Channel: ...
