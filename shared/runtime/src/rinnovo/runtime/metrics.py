"""Prometheus metrics of one service, on its own registry."""

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        self.dead_letters = Counter(
            "rinnovo_dead_letters",
            "Messages sent to a dead-letter topic.",
            ["topic", "reason"],
            registry=self.registry,
        )
        self.outbox_backlog = Gauge(
            "rinnovo_outbox_backlog",
            "Events written to an outbox and not yet published, at the last relay pass.",
            registry=self.registry,
        )
        self.messages_published = Counter(
            "rinnovo_outbox_published",
            "Events published by the outbox relay.",
            registry=self.registry,
        )
        self.transient_retries = Counter(
            "rinnovo_handler_transient_retries",
            "Handler attempts retried because the database or broker was away.",
            ["topic"],
            registry=self.registry,
        )
