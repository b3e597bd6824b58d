"""Turning Kafka records into applied projection batches, shared by Faust agents and replays.

Undecodable records go to the service's dead-letter topic with the reason in headers. A batch
whose handler fails is retried event by event: database outages are retried until the database
returns (the position never moves past an unapplied event); an event whose handler itself fails
is dead-lettered with the error, and only then is its position recorded.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from channelstream_common import metrics, tracing
from channelstream_common.events import Envelope
from channelstream_common.projection import Handler, ProjectionStore
from channelstream_common.publisher import EventPublisher
from channelstream_common.serde import AvroSerde, DecodeError
from channelstream_common.topics import DEAD_LETTERS, Topic

log = logging.getLogger(__name__)


class BatchApplier:
    def __init__(
        self,
        service: str,
        store: ProjectionStore,
        handler: Handler,
        serde: AvroSerde,
        topics: Sequence[Topic],
        publisher: EventPublisher | None,
    ) -> None:
        self.service = service
        self.store = store
        self.handler = handler
        self.serde = serde
        self.by_name = {t.full_name(serde.prefix): t for t in topics}
        self.publisher = publisher
        self.dead_letter = DEAD_LETTERS[service]
        self.dead_lettered: list[tuple[Envelope, str]] = []  # kept when there is no publisher

    async def decode(self, records: Sequence[Any]) -> tuple[list[Envelope], list[Envelope]]:
        """Decoded envelopes, and the positions of records that were dead-lettered instead.

        `records` are aiokafka ConsumerRecords or Faust messages (same attribute names).
        """
        good: list[Envelope] = []
        failed: list[Envelope] = []
        by_name, serde = self.by_name, self.serde
        for r in records:
            ts = r.timestamp  # aiokafka gives milliseconds (int), a Faust Message seconds (float)
            ms = round(ts * 1000) if isinstance(ts, float) else int(ts)
            topic = by_name[r.topic]
            try:
                value = serde.decode_cached(topic, r.value)
                if value is None:
                    value = await serde.decode(topic, r.value)
            except DecodeError as exc:
                env = Envelope(
                    r.topic, r.partition, r.offset, r.key, {}, ms, tuple(r.headers or ()), r.value
                )
                await self.to_dead_letter(env, f"DECODE_ERROR: {exc}")
                failed.append(env)
                continue
            good.append(
                Envelope(r.topic, r.partition, r.offset, r.key, value, ms, r.headers or (), r.value)
            )
        return good, failed

    async def apply(
        self, records: Sequence[Any], keep: Callable[[Envelope], bool] | None = None
    ) -> int:
        """Apply a batch; events `keep` refuses only move the position (point-in-time replay)."""
        good, failed = await self.decode(records)
        if keep is not None:
            failed += [e for e in good if not keep(e)]
            good = [e for e in good if keep(e)]
        applied = await self._apply_envelopes(good)
        if failed:
            await self.store.apply(failed, _noop)
        return applied

    async def _apply_envelopes(self, envelopes: list[Envelope]) -> int:
        with metrics.HANDLER_LATENCY.labels(self.service).time():
            try:
                applied = await self._retrying(envelopes)
            except Exception:
                log.warning("batch of %d failed; applying one by one", len(envelopes))
                applied = 0
                for env in envelopes:
                    applied += await self._apply_one(env)
        for topic, count in Counter(env.topic for env in envelopes).items():
            metrics.EVENTS_PROCESSED.labels(self.service, topic).inc(count)
        if envelopes:
            metrics.observe_applied(self.service, envelopes[-1])
        return applied

    async def _retrying(self, envelopes: list[Envelope]) -> int:
        delay = 0.5
        while True:
            try:
                with tracing.applying(self.service, envelopes):
                    return await self.store.apply(envelopes, self.handler)
            except (OperationalError, InterfaceError, PoolTimeout) as exc:
                log.error("database unavailable, retrying in %.1fs: %s", delay, exc)
                metrics.DB_UP.labels(self.service).set(0)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10)
            else:
                metrics.DB_UP.labels(self.service).set(1)

    async def _apply_one(self, env: Envelope) -> int:
        try:
            return await self._retrying([env])
        except Exception as exc:
            log.exception(
                "event %s at %s/%d@%d dead-lettered",
                env.event_id,
                env.topic,
                env.partition,
                env.offset,
            )
            await self.to_dead_letter(env, f"HANDLER_ERROR: {type(exc).__name__}: {exc}")
            await self.store.apply([env], _noop)
            return 0

    async def to_dead_letter(self, env: Envelope, reason: str) -> None:
        metrics.EVENTS_FAILED.labels(self.service, env.topic).inc()
        if self.publisher is None:
            log.warning(
                "dead letter (not published) %s/%d@%d: %s",
                env.topic,
                env.partition,
                env.offset,
                reason,
            )
            self.dead_lettered.append((env, reason))
            return
        headers = [
            *env.headers,
            ("dlq_reason", reason.encode()[:2000]),
            ("dlq_source", f"{env.topic}/{env.partition}@{env.offset}".encode()),
        ]
        await self.publisher.send_raw(self.dead_letter, env.raw, env.key, headers)


async def _noop(_conn: Any, _events: Sequence[Envelope]) -> None:
    return None
