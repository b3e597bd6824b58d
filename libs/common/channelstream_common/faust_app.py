"""The Faust app factory: raw (bytes) serializers, our Avro serde, batched projection agents."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import faust

from channelstream_common.consumer import BatchApplier
from channelstream_common.kafka_security import faust_credentials
from channelstream_common.settings import Settings
from channelstream_common.topics import Topic


def create_app(settings: Settings, *, app_id: str | None = None, web: bool = True) -> faust.App:
    return faust.App(
        app_id or f"channelstream-{settings.topic_prefix}{settings.service}",
        broker=f"kafka://{settings.kafka_bootstrap}",
        broker_credentials=faust_credentials(settings),
        key_serializer="raw",
        value_serializer="raw",
        web_enabled=web,
        web_host=settings.http_host,
        web_port=settings.http_port or 6066,
        web_in_thread=False,
        topic_replication_factor=1,
        topic_allow_declare=False,
        topic_disable_leader=True,
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        broker_commit_every=5000,
        broker_commit_interval=1.0,
        stream_buffer_maxsize=20000,
        store="memory://",
        autodiscover=False,
        datadir=f"/tmp/faust-{settings.topic_prefix}{settings.service}",
    )


def projection_agent(
    app: faust.App,
    applier: BatchApplier,
    topics: Sequence[Topic],
    *,
    name: str,
    batch: int = 2000,
    within: float = 0.05,
) -> Any:
    """One agent that consumes `topics` and applies them to the projection in batches."""
    channel = app.topic(
        *[t.full_name(applier.serde.prefix) for t in topics],
        key_serializer="raw",
        value_serializer="raw",
    )

    async def consume(stream: Any) -> None:
        async for events in stream.take_events(batch, within):
            await applier.apply([e.message for e in events])

    return app.agent(channel, name=name)(consume)
