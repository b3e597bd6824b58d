"""The consumer feeding a service's projections: one aiokafka consumer in the service's group,
`getmany` batches of up to thousands of records, each batch handed to every projection reading
those topics (concurrently; each applies in its own transaction).

Why not Faust agents: Faust's per-message path (conductor, Event objects, stream buffers) caps a
consumer at 1 400-5 000 records/s on the benchmark machine, against ~34 000 for `getmany` on the
same topic (bench/RESULTS.md, "Faust versus getmany"); projections apply whole batches anyway.
Faust still serves the HTTP endpoints and owns the app lifecycle.

Offsets committed to Kafka are only a hint: on assignment each partition is sought to the
position its projections recorded in the database (the lowest, when several share a topic).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition

from channelstream_common.consumer import BatchApplier
from channelstream_common.projection import ProjectionStore
from channelstream_common.settings import Settings
from channelstream_common.tasks import cancel_and_wait

log = logging.getLogger(__name__)
OFFSET_RESET = "earliest"


def consumer_group(settings: Settings) -> str:
    return f"channelstream-{settings.topic_prefix}{settings.service}"


class _SeekToApplied(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, stream: ProjectionStream) -> None:
        self.stream = stream

    async def on_partitions_revoked(self, revoked: Any) -> None:
        await self.stream.commit()

    async def on_partitions_assigned(self, assigned: Any) -> None:
        self.stream.settled.clear()
        await self.stream.seek_to_applied(set(assigned))


class ProjectionStream:
    def __init__(
        self,
        group_id: str,
        bootstrap: str,
        *,
        security: Mapping[str, Any] | None = None,
        max_records: int = 5000,
        wait_ms: int = 50,
        commit_interval: float = 1.0,
    ) -> None:
        self.group_id = group_id
        self.bootstrap = bootstrap
        self.security = dict(security or {})
        self.max_records = max_records
        self.wait_ms = wait_ms
        self.commit_interval = commit_interval
        self.appliers: list[tuple[BatchApplier, frozenset[str]]] = []
        self.consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None
        self._committed_at = 0.0
        # (topic, partition) -> offset below which every record is applied. Ahead of the stored
        # positions after transaction markers and aborted records, which are never delivered.
        self.settled: dict[tuple[str, int], int] = {}

    def add(self, applier: BatchApplier, topics: Sequence[str]) -> None:
        self.appliers.append((applier, frozenset(topics)))

    @property
    def stores(self) -> list[tuple[ProjectionStore, list[str]]]:
        return [(a.store, sorted(ts)) for a, ts in self.appliers]

    async def start(self) -> None:
        if not self.appliers:
            return
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            group_id=self.group_id,
            enable_auto_commit=False,
            auto_offset_reset=OFFSET_RESET,
            isolation_level="read_committed",
            max_partition_fetch_bytes=8 * 1024 * 1024,
            fetch_max_bytes=32 * 1024 * 1024,
            **self.security,
        )
        await self.consumer.start()
        topics = sorted({t for _, ts in self.appliers for t in ts})
        self.consumer.subscribe(topics, listener=_SeekToApplied(self))
        self._task = asyncio.create_task(self._run(), name=f"{self.group_id}-projections")

    async def stop(self) -> None:
        if self._task is not None:
            await cancel_and_wait(self._task)
            self._task = None
        if self.consumer is not None:
            await self.commit()
            await self.consumer.stop()
            self.consumer = None

    async def seek_to_applied(self, assigned: set[TopicPartition]) -> None:
        assert self.consumer is not None
        resume: dict[TopicPartition, int] = {}
        for applier, topics in self.appliers:
            positions = await applier.store.positions()
            for tp in assigned:
                if tp.topic in topics:
                    nxt = positions.get((tp.topic, tp.partition), -1) + 1
                    resume[tp] = min(resume.get(tp, nxt), nxt)
        for tp, offset in resume.items():
            self.consumer.seek(tp, offset)

    async def commit(self) -> None:
        """Commit the consumed offsets (a hint only: the database holds the positions); called
        between batches, so everything before them is applied."""
        if self.consumer is None:
            return
        with contextlib.suppress(Exception):
            await self.consumer.commit()
            for tp in self.consumer.assignment():
                self.settled[(tp.topic, tp.partition)] = await self.consumer.position(tp)
        self._committed_at = time.monotonic()

    async def _run(self) -> None:
        assert self.consumer is not None
        while True:
            try:
                batch = await self.consumer.getmany(
                    timeout_ms=self.wait_ms, max_records=self.max_records
                )
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the broker went away: aiokafka reconnects
                log.warning("fetch failed, retrying: %s", exc)
                await asyncio.sleep(1)
                continue
            if batch:
                try:
                    await self.apply(batch)
                except Exception:  # nothing is lost: resume from what the database applied
                    log.exception("applying a batch failed; resuming from the database positions")
                    await asyncio.sleep(1)
                    await self.seek_to_applied(self.consumer.assignment())
                    continue
            if time.monotonic() - self._committed_at > self.commit_interval:
                await self.commit()

    async def apply(self, batch: Mapping[TopicPartition, Sequence[Any]]) -> None:
        jobs = []
        for applier, topics in self.appliers:
            records = [r for tp, rs in batch.items() if tp.topic in topics for r in rs]
            if records:
                jobs.append(applier.apply(records))
        await asyncio.gather(*jobs)
