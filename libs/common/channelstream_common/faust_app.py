"""The Faust app factory. Faust serves each service's HTTP API and owns its lifecycle; the
projections are fed by channelstream_common.stream (why: see there)."""

from __future__ import annotations

import faust
from faust.app.base import BootStrategy

from channelstream_common.kafka_security import faust_credentials
from channelstream_common.settings import Settings
from channelstream_common.stream import consumer_group


class _WebOnly(BootStrategy):
    enable_kafka = False  # no Faust consumer or producer: EventPublisher and stream do Kafka


class _App(faust.App):
    BootStrategy = _WebOnly


def create_app(settings: Settings, *, app_id: str | None = None, web: bool = True) -> faust.App:
    return _App(
        app_id or consumer_group(settings),
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
