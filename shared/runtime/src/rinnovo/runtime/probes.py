"""What a service reports about itself between scrapes: whether it is ready, and how far
its consumer group is behind on each partition it reads.

Both need I/O (a ping, two Kafka requests), so they are probed in a loop and kept in gauges
rather than computed while Prometheus waits on ``/metrics``.
"""

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import structlog

from rinnovo.runtime.consumer_groups import ConsumerGroups
from rinnovo.runtime.metrics import Metrics

log = structlog.get_logger(__name__)


class Probes:
    def __init__(
        self,
        metrics: Metrics,
        ready: Callable[[], Awaitable[bool]],
        kafka: Mapping[str, Any],
        group: str,
        topics: Sequence[str],
        interval_seconds: float,
    ) -> None:
        self._metrics = metrics
        self._ready = ready
        self._kafka = kafka
        self._group = group
        self._topics = topics
        self.interval_seconds = interval_seconds

    async def run(self) -> None:
        groups = ConsumerGroups(self._kafka) if self._topics else None
        try:
            while True:
                await self.probe(groups)
                await asyncio.sleep(self.interval_seconds)
        finally:
            if groups is not None:
                await groups.close()

    async def probe(self, groups: ConsumerGroups | None) -> None:
        self._metrics.ready.set(1 if await self._ready() else 0)
        if groups is None:
            return
        try:
            positions = await groups.positions(self._group, self._topics)
        except Exception as exc:  # Kafka away: the readiness gauge says so
            log.info("consumer lag not probed", error=repr(exc))
            return
        for p in positions:
            self._metrics.consumer_lag.labels(self._group, p.topic, str(p.partition)).set(p.lag)
