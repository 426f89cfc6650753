"""Opt-in counts of a service's round trips, on its ``/metrics``: database commands by name
and Kafka requests by API, so a benchmark can tell what one unit of work costs.

Off by default (``RINNOVO_<SERVICE>_IO_METRICS=true`` turns it on): Kafka requests are counted
by wrapping aiokafka's connection ``send``, which every request of the process goes through.
"""

from collections.abc import Callable
from typing import Any

import structlog
from aiokafka.conn import AIOKafkaConnection
from prometheus_client import Counter
from pymongo import monitoring

from rinnovo.runtime.metrics import Metrics

log = structlog.get_logger(__name__)

MONGO_COMMANDS = "rinnovo_mongo_commands"
KAFKA_REQUESTS = "rinnovo_kafka_requests"


class CommandCounter(monitoring.CommandListener):
    """Counts every command a client sends, by its name (find, update, getMore, ...)."""

    def __init__(self, metrics: Metrics) -> None:
        self.commands = Counter(
            MONGO_COMMANDS,
            "Commands sent to MongoDB, by command name.",
            ["command"],
            registry=metrics.registry,
        )

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self.commands.labels(event.command_name).inc()

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


_kafka_counters: list[Counter] = []


def api_name(request: Any) -> str:
    """``ProduceRequest_v7`` → ``Produce``."""
    return type(request).__name__.split("_v", 1)[0].removesuffix("Request")


def _count_kafka_requests(send: Callable[..., Any]) -> Callable[..., Any]:
    def counted(self: AIOKafkaConnection, request: Any, *args: Any, **kwargs: Any) -> Any:
        name = api_name(request)
        for counter in _kafka_counters:
            counter.labels(name).inc()
        return send(self, request, *args, **kwargs)

    counted.__wrapped__ = send  # type: ignore[attr-defined]
    return counted


def count_io(metrics: Metrics) -> list[monitoring.CommandListener]:
    """Count this service's Kafka requests from now on, and return the listener its Mongo
    client takes (``event_listeners``)."""
    _kafka_counters.append(
        Counter(
            KAFKA_REQUESTS,
            "Requests sent to Kafka brokers (each one round trip), by API.",
            ["api"],
            registry=metrics.registry,
        )
    )
    if not hasattr(AIOKafkaConnection.send, "__wrapped__"):
        AIOKafkaConnection.send = _count_kafka_requests(AIOKafkaConnection.send)
    log.info("counting database commands and Kafka requests")
    return [CommandCounter(metrics)]
