"""Consumer lag per projection and partition, measured from the database positions (what is
really applied) against the log end; and whether the start-up catch-up is done."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from channelstream_common import metrics
from channelstream_common.projection import ProjectionStore
from channelstream_common.tasks import cancel_and_wait

log = logging.getLogger(__name__)


class LagMonitor:
    def __init__(
        self,
        service: str,
        bootstrap: str,
        stores: Sequence[tuple[ProjectionStore, list[str]]],
        *,
        security: Mapping[str, Any] | None = None,
        settled: Mapping[tuple[str, int], int] | None = None,
    ) -> None:
        """`settled`: offsets the consumer has applied everything below (ProjectionStream.settled),
        which pass over transaction markers that no stored position can reach."""
        self.service = service
        self.bootstrap = bootstrap
        self.security = dict(security or {})
        self.stores = stores
        self.settled = settled if settled is not None else {}
        self.targets: dict[TopicPartition, int] | None = None  # log ends seen at start-up
        self.caught_up = not stores
        self.lag: dict[tuple[str, str, int], int] = {}
        self._task: asyncio.Task[None] | None = None
        self._consumer: AIOKafkaConsumer | None = None

    async def measure(self) -> None:
        assert self._consumer is not None
        topics = sorted({t for _, ts in self.stores for t in ts})
        parts = [
            TopicPartition(t, p)
            for t in topics
            for p in sorted(self._consumer.partitions_for_topic(t) or ())
        ]
        ends = await self._consumer.end_offsets(parts) if parts else {}
        if self.targets is None:
            self.targets = dict(ends)
        behind_start = False
        for store, store_topics in self.stores:
            positions = await store.positions()
            for tp in parts:
                if tp.topic not in store_topics:
                    continue
                applied = max(
                    positions.get((tp.topic, tp.partition), -1) + 1,
                    self.settled.get((tp.topic, tp.partition), 0),
                )
                lag = max(0, ends[tp] - applied)
                self.lag[(store.projection, tp.topic, tp.partition)] = lag
                metrics.CONSUMER_LAG.labels(self.service, tp.topic, str(tp.partition)).set(lag)
                behind_start |= applied < self.targets.get(tp, 0)
        self.caught_up = not behind_start

    async def _run(self, interval: float) -> None:
        while True:
            try:
                if self._consumer is None:
                    self._consumer = AIOKafkaConsumer(
                        bootstrap_servers=self.bootstrap,
                        enable_auto_commit=False,
                        **self.security,
                    )
                    await self._consumer.start()
                    await self._consumer.topics()
                await self.measure()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("lag measurement failed: %s", exc)
            await asyncio.sleep(interval)

    def start(self, interval: float = 2.0) -> None:
        self._task = asyncio.create_task(self._run(interval), name="lag-monitor")

    async def stop(self) -> None:
        if self._task:
            await cancel_and_wait(self._task)
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None
