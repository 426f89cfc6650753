"""Prometheus metrics of one service, on its own registry: what operators watch
(``docs/operations.md``; panels and alerts in ``deploy/observability``)."""

from dataclasses import dataclass, field

from fastapi import FastAPI
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server
from prometheus_fastapi_instrumentator import Instrumentator
from prometheus_fastapi_instrumentator import metrics as http_metrics

LATENESS_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 6 * 3600, 86400)
"""Seconds after its due time that scheduled work is taken: up to a day (a service that
was down, a clock moved by days in a demo)."""
HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


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
        self.outbox_oldest_age = Gauge(
            "rinnovo_outbox_oldest_age_seconds",
            "Age (by the service's clock) of the oldest event the last relay pass found "
            "waiting; 0 when it found none, or when another replica holds the relay's lease.",
            registry=self.registry,
        )
        self.consumer_lag = Gauge(
            "rinnovo_consumer_lag",
            "Records of a partition not yet committed by the service's consumer group (end "
            "offset minus committed offset), as last probed; every replica reports its group.",
            ["group", "topic", "partition"],
            registry=self.registry,
        )
        self.ready = Gauge(
            "rinnovo_ready",
            "1 while the service reaches Kafka and MongoDB (its readiness), else 0.",
            registry=self.registry,
        )
        self.scheduler_lateness = Histogram(
            "rinnovo_scheduler_lateness_seconds",
            "How long after its due time each piece of scheduled work was claimed.",
            ["work"],
            buckets=LATENESS_BUCKETS,
            registry=self.registry,
        )
        self.claims_lost = Counter(
            "rinnovo_scheduler_claims_lost",
            "Scheduled work found due but claimed by another replica first.",
            ["work"],
            registry=self.registry,
        )
        self.deliveries = Counter(
            "rinnovo_deliveries",
            "Attempts to deliver a message (e-mail, webhook) by outcome: sent, retried "
            "(failed, to be tried again) or failed (refused, or given up).",
            ["channel", "outcome"],
            registry=self.registry,
        )
        self.transient_retries = Counter(
            "rinnovo_handler_transient_retries",
            "Handler attempts retried because the database or broker was away.",
            ["topic"],
            registry=self.registry,
        )


def instrument_http(app: FastAPI, registry: CollectorRegistry) -> None:
    """Requests and their duration per route template (``handler``), method and status
    class, on ``registry``; probes and scrapes are left out."""
    instrumentator = Instrumentator(
        excluded_handlers=["^/metrics$", "^/health/"], registry=registry
    )
    instrumentator.add(http_metrics.requests(registry=registry))
    instrumentator.add(
        http_metrics.latency(should_include_status=False, buckets=HTTP_BUCKETS, registry=registry)
    )
    instrumentator.instrument(app)


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
