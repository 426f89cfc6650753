"""What every notifier use case works with: its notifications' ``Changes``, what it reads
beside them, the channel plugins, the clock and the delivery policy."""

from collections.abc import Mapping
from dataclasses import dataclass, field

from rinnovo.notifier.channels.base import Channel
from rinnovo.notifier.domain.delivery import RetryPolicy
from rinnovo.notifier.domain.egress import EgressPolicy
from rinnovo.notifier.domain.notifications import Notification
from rinnovo.notifier.service_layer.ports import Endpoints, History, KnownOrders
from rinnovo.runtime.changes import Changes
from rinnovo.runtime.clock import Clock


@dataclass(frozen=True)
class Context:
    notifications: Changes[Notification]
    history: History
    orders: KnownOrders
    endpoints: Endpoints
    channels: Mapping[str, Channel]
    clock: Clock
    retry: RetryPolicy
    default_locale: str
    allow_plain_http: bool = False
    egress: EgressPolicy = field(default_factory=EgressPolicy)
    """Where webhooks may go: endpoints reaching elsewhere are refused."""
