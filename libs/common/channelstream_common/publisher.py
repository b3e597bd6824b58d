"""Publishing events: idempotent, acks=all producer, Avro values, CloudEvents headers.

The OpenTelemetry aiokafka instrumentation (see telemetry.setup) adds `traceparent` to every send.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner

from channelstream_common.events import cloudevent_headers
from channelstream_common.serde import AvroSerde
from channelstream_common.topics import Topic


@functools.cache
def _key_path(key: str) -> tuple[str, ...] | None:
    """The field names leading to a topic's key, None when the topic has no key."""
    parts = tuple(key.split("."))
    return parts if all(parts) else None


def key_of(topic: Topic, value: dict[str, Any]) -> bytes | None:
    path = _key_path(topic.key)
    if path is None:
        return None
    node: Any = value
    for part in path:
        node = node.get(part) if isinstance(node, dict) else None
    return None if node is None else str(node).encode()


class OwnershipError(RuntimeError):
    """A service tried to write a topic it does not own (single writer per topic)."""


class EventPublisher:
    def __init__(
        self,
        bootstrap: str,
        serde: AvroSerde,
        service: str,
        *,
        transactional_id: str | None = None,
        linger_ms: int = 5,
        security: Mapping[str, Any] | None = None,
    ) -> None:
        """`security`: kafka_security.client_kwargs(settings) (SASL, TLS); None = PLAINTEXT."""
        self.serde = serde
        self.service = service
        self.producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap,
            enable_idempotence=True,
            acks="all",
            linger_ms=linger_ms,
            max_batch_size=256 * 1024,
            transactional_id=transactional_id,
            **(security or {}),
        )

    async def start(self) -> None:
        await self.producer.start()

    async def stop(self) -> None:
        await self.producer.stop()

    def _check_owner(self, topic: Topic) -> None:
        if topic.owner != self.service:
            raise OwnershipError(
                f"{self.service} may not write {topic.name} (owner: {topic.owner})"
            )

    async def _send(self, topic: Topic, value: dict[str, Any]) -> asyncio.Future[Any]:
        self._check_owner(topic)
        assert topic.value_schema
        payload = await self.serde.encode(topic, value)
        headers = cloudevent_headers(topic.value_schema, value["metadata"])
        return await self.producer.send(
            topic.full_name(self.serde.prefix), payload, key=key_of(topic, value), headers=headers
        )

    async def publish(self, topic: Topic, value: dict[str, Any]) -> Any:
        """Send one event and wait for the broker's acknowledgement (RecordMetadata)."""
        return await (await self._send(topic, value))

    async def publish_many(self, items: Iterable[tuple[Topic, dict[str, Any]]]) -> list[Any]:
        """Send a batch without waiting per record, then wait for every acknowledgement."""
        futures = [await self._send(topic, value) for topic, value in items]
        return list(await asyncio.gather(*futures))

    async def send_raw(
        self,
        topic: Topic,
        value: bytes | None,
        key: bytes | None,
        headers: list[tuple[str, bytes]],
    ) -> Any:
        self._check_owner(topic)
        return await (
            await self.producer.send(
                topic.full_name(self.serde.prefix), value, key=key, headers=headers
            )
        )

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[EventPublisher]:
        """Everything published inside commits atomically (needs a transactional_id)."""
        async with self.producer.transaction():
            yield self


class BatchedSends:
    """Records sent in produce batches built here (`create_batch`/`send_batch`: a quarter of the
    cost of `send` per record), partitioned by key exactly as `send` would. A record sent with
    `send` in between (a traced one) first closes its partition's open batch, keeping order."""

    def __init__(self, producer: AIOKafkaProducer) -> None:
        self.producer = producer
        self.partitioner = DefaultPartitioner()
        self.parts: dict[str, list[int]] = {}
        self.chosen: dict[tuple[str, bytes | None], int] = {}  # keys repeat; murmur2 is Python
        self.open: dict[tuple[str, int], Any] = {}
        self.futures: list[asyncio.Future[Any]] = []

    async def partition(self, topic: str, key: bytes | None) -> int:
        if key is not None and (chosen := self.chosen.get((topic, key))) is not None:
            return chosen
        parts = self.parts.get(topic)
        if parts is None:
            parts = self.parts[topic] = sorted(await self.producer.partitions_for(topic))
        chosen = int(self.partitioner(key, parts, parts))
        if key is not None:
            self.chosen[(topic, key)] = chosen
        return chosen

    async def add(
        self, topic: str, key: bytes | None, value: bytes, headers: list[tuple[str, bytes]]
    ) -> None:
        tp = (topic, await self.partition(topic, key))
        batch = self.open.get(tp) or self.producer.create_batch()
        if batch.append(key=key, value=value, timestamp=None, headers=headers) is None:
            await self._close(tp, batch)
            batch = self.producer.create_batch()
            batch.append(key=key, value=value, timestamp=None, headers=headers)
        self.open[tp] = batch

    async def send(
        self, topic: str, key: bytes | None, value: bytes, headers: list[tuple[str, bytes]]
    ) -> None:
        tp = (topic, await self.partition(topic, key))
        if tp in self.open:
            await self._close(tp, self.open.pop(tp))
        self.futures.append(
            await self.producer.send(topic, value, key=key, headers=headers, partition=tp[1])
        )

    async def _close(self, tp: tuple[str, int], batch: Any) -> None:
        self.futures.append(await self.producer.send_batch(batch, tp[0], partition=tp[1]))

    async def wait(self) -> None:
        """Send what is still open and wait for every acknowledgement."""
        for tp, batch in self.open.items():
            await self._close(tp, batch)
        self.open.clear()
        await asyncio.gather(*self.futures)
        self.futures.clear()
