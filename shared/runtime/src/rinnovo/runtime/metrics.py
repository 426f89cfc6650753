"""Prometheus metrics of one service, on its own registry."""

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server


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
            "Events the last relay pass found waiting in the outboxes (at most a batch per "
            "collection), published or not by its end.",
            registry=self.registry,
        )
        self.messages_published = Counter(
            "rinnovo_outbox_published",
            "Events published by the outbox relay.",
            registry=self.registry,
        )
        self.sweeps = Counter(
            "rinnovo_sweeps",
            "Passes of a scheduled-work loop that finished, whether they found work or not.",
            ["loop"],
            registry=self.registry,
        )
        self.transient_retries = Counter(
            "rinnovo_handler_transient_retries",
            "Handler attempts retried because the database or broker was away.",
            ["topic"],
            registry=self.registry,
        )


class MetricsServer:
    """``/metrics`` on a port of its own, away from the API: what Prometheus scrapes is then
    reachable only where the network lets it (docs/security.md)."""

    def __init__(self, registry: CollectorRegistry, host: str, port: int) -> None:
        self._server, self._thread = start_http_server(port, addr=host, registry=registry)
        self.port: int = self._server.server_port

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
