"""Acceptance of the platform foundation, against the real broker, registry and PostgreSQL."""

from __future__ import annotations

import io
import json
import struct
import uuid
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import fastavro
import httpx
import pytest
from channelstream_common import audit, testing
from channelstream_common.db import make_engine
from channelstream_common.events import Envelope
from channelstream_common.projection import ProjectionStore
from channelstream_common.publisher import EventPublisher
from channelstream_common.serde import AvroSerde
from channelstream_common.topics import PARTNER_ENROLLED
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

pytestmark = pytest.mark.integration
SCHEMAS = Path(__file__).resolve().parents[2] / "schemas" / "avro"


def partner(pid: str) -> dict:
    return testing.partner_enrolled(pid, territories=["DE", "AT"], exclusive_territories=["AT"])


async def test_event_from_shared_library_decodes_with_only_registry_and_avsc(
    endpoints, topic_prefix, provisioned
):
    serde = AvroSerde(endpoints.registry, topic_prefix)
    pub = EventPublisher(endpoints.kafka, serde, "onboarding")
    await pub.start()
    pid = f"P-{uuid.uuid4().hex[:6].upper()}"
    try:
        await pub.publish(PARTNER_ENROLLED, partner(pid))
    finally:
        await pub.stop()

    records = await audit.read_topic(
        endpoints.kafka, AvroSerde(endpoints.registry, topic_prefix), PARTNER_ENROLLED
    )
    mine = [r for r in records if r.key == pid.encode()]
    assert len(mine) == 1
    raw = mine[0].raw
    assert raw is not None
    magic, schema_id = struct.unpack(">bI", raw[:5])
    assert magic == 0
    async with httpx.AsyncClient() as http:
        writer = json.loads(
            (await http.get(f"{endpoints.registry}/schemas/ids/{schema_id}")).json()["schema"]
        )
    reader = json.loads((SCHEMAS / "PartnerEnrolled" / "v1.avsc").read_text())
    value = fastavro.schemaless_reader(
        io.BytesIO(raw[5:]), fastavro.parse_schema(writer), fastavro.parse_schema(reader)
    )
    assert value["partner_id"] == pid
    assert value["enrolled_on"] == date(2026, 1, 5)
    assert value["exclusive_territories"] == ["AT"]
    headers = dict(mine[0].headers)
    assert headers["ce_type"] == b"io.channelstream.PartnerEnrolled"
    assert headers["ce_id"].decode() == value["metadata"]["event_id"]
    assert headers["ce_specversion"] == b"1.0"


async def _view_handler(conn: AsyncConnection, events: Sequence[Envelope]) -> None:
    await conn.execute(
        text(
            "insert into view_counts (k, n) values (:k, 1) "
            "on conflict (k) do update set n = view_counts.n + 1"
        ),
        [{"k": e.value["k"]} for e in events],
    )


async def _failing_handler(conn: AsyncConnection, events: Sequence[Envelope]) -> None:
    await _view_handler(conn, events)
    raise RuntimeError("handler bug")


def env(offset: int, key: str) -> Envelope:
    return Envelope(
        "t.topic", 0, offset, None, {"k": key, "metadata": {"event_id": str(offset)}}, 0
    )


async def test_redelivered_record_leaves_view_unchanged_and_failed_batch_keeps_position(
    settings_for,
):
    settings = settings_for("platformtest")
    engine = make_engine(settings.database_url)
    store = ProjectionStore(engine, "counts")
    await store.setup()
    async with engine.begin() as conn:
        await conn.execute(text("create table view_counts (k text primary key, n int not null)"))

    async def view() -> dict[str, int]:
        async with engine.connect() as conn:
            return {r.k: r.n for r in await conn.execute(text("select k, n from view_counts"))}

    assert await store.apply([env(0, "a"), env(1, "b")], _view_handler) == 2
    assert await view() == {"a": 1, "b": 1}
    # the same record again (redelivery), in a batch with a new one
    assert await store.apply([env(1, "b"), env(2, "a")], _view_handler) == 1
    assert await view() == {"a": 2, "b": 1}
    assert await store.positions() == {("t.topic", 0): 2}

    with pytest.raises(RuntimeError, match="handler bug"):
        await store.apply([env(3, "c"), env(4, "a")], _failing_handler)
    assert await view() == {"a": 2, "b": 1}
    assert await store.positions() == {("t.topic", 0): 2}
    await engine.dispose()


async def test_transactional_produce_is_visible_to_read_committed_consumer(
    endpoints, topic_prefix, provisioned
):
    serde = AvroSerde(endpoints.registry, topic_prefix)
    pub = EventPublisher(
        endpoints.kafka,
        serde,
        "onboarding",
        transactional_id=f"platform-test-{uuid.uuid4().hex[:6]}",
    )
    await pub.start()
    committed = f"C-{uuid.uuid4().hex[:6].upper()}"
    aborted = f"A-{uuid.uuid4().hex[:6].upper()}"
    try:
        async with pub.transaction():
            await pub.publish_many([(PARTNER_ENROLLED, partner(committed))])
        with pytest.raises(ValueError, match="abort me"):
            async with pub.transaction():
                await pub.publish_many([(PARTNER_ENROLLED, partner(aborted))])
                raise ValueError("abort me")
    finally:
        await pub.stop()
    records = await audit.read_topic(endpoints.kafka, serde, PARTNER_ENROLLED)  # read_committed
    keys = {r.key for r in records}
    assert committed.encode() in keys
    assert aborted.encode() not in keys


async def test_topics_ensure_refuses_a_compacted_or_expiring_event_topic(endpoints):
    """Event topics are kept forever: an existing one with other settings stops start-up."""
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic
    from channelstream_common.admin import TopicMismatch, ensure_topics

    prefix = f"bad{uuid.uuid4().hex[:6]}."
    admin = AIOKafkaAdminClient(bootstrap_servers=endpoints.kafka)
    await admin.start()
    try:
        await admin.create_topics(
            [
                NewTopic(
                    PARTNER_ENROLLED.full_name(prefix),
                    3,
                    1,
                    topic_configs={"cleanup.policy": "compact", "retention.ms": "604800000"},
                )
            ]
        )
    finally:
        await admin.close()
    with pytest.raises(TopicMismatch) as refused:
        await ensure_topics(endpoints.kafka, prefix, [PARTNER_ENROLLED])
    assert "cleanup.policy=compact" in str(refused.value)
    assert "retention.ms=604800000" in str(refused.value)
    assert await ensure_topics(endpoints.kafka, prefix + "ok.", [PARTNER_ENROLLED]) == {
        PARTNER_ENROLLED.full_name(prefix + "ok."): "created"
    }
