"""The outbox relay on the real PostgreSQL and Kafka: it takes above the ids it has covered, and a
transaction that commits below them (ids are drawn at insert, commits come in any order) is
published by the relay's next pass, once."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from channelstream_common import testing
from channelstream_common.admin import ensure_topics, register_schemas
from channelstream_common.db import make_engine
from channelstream_common.outbox import OUTBOX_DDL, Outbox
from channelstream_common.publisher import EventPublisher
from channelstream_common.serde import AvroSerde
from channelstream_common.topics import PARTNER_ENROLLED
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

pytestmark = pytest.mark.integration
BACKGROUND = False  # Outbox._pass(limit, full): the relay loop's pass, not flush()'s sweep from 0


class Relay:
    def __init__(self, engine: AsyncEngine, outbox: Outbox, bootstrap: str, topic: str) -> None:
        self.engine, self.outbox, self.bootstrap, self.topic = engine, outbox, bootstrap, topic

    @staticmethod
    def events(n: int) -> list[tuple[Any, dict[str, Any]]]:
        return [
            (PARTNER_ENROLLED, testing.partner_enrolled(f"P-{uuid.uuid4().hex[:8]}"))
            for _ in range(n)
        ]

    async def stage(self, conn: AsyncConnection, n: int) -> list[str]:
        events = self.events(n)
        await self.outbox.add(conn, events)
        return [value["metadata"]["event_id"] for _, value in events]

    async def published(self) -> Counter[str]:
        """The event ids on the topic (every record up to its end offsets), with counts."""
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False)
        await consumer.start()
        try:
            parts = [TopicPartition(self.topic, p) for p in range(PARTNER_ENROLLED.partitions)]
            consumer.assign(parts)
            await consumer.seek_to_beginning(*parts)
            end = await consumer.end_offsets(parts)
            ids: Counter[str] = Counter()
            while [p for p in parts if await consumer.position(p) < end[p]]:
                for records in (await consumer.getmany(*parts, timeout_ms=500)).values():
                    ids.update(dict(r.headers)["ce_id"].decode() for r in records)
            return ids
        finally:
            await consumer.stop()


@pytest.fixture
async def relay(endpoints: testing.Endpoints) -> AsyncIterator[Relay]:
    prefix = testing.unique_prefix()
    await ensure_topics(endpoints.kafka, prefix, [PARTNER_ENROLLED])
    serde = AvroSerde(endpoints.registry, prefix)
    await register_schemas(serde, [PARTNER_ENROLLED])
    name = f"outbox_relay_{uuid.uuid4().hex[:8]}"
    engine = make_engine(testing.create_database(endpoints.postgres, name))
    async with engine.begin() as conn:
        for ddl in OUTBOX_DDL:
            await conn.exec_driver_sql(ddl)
    publisher = EventPublisher(endpoints.kafka, serde, "onboarding")
    await publisher.start()
    outbox = Outbox(engine, publisher)
    try:
        yield Relay(engine, outbox, endpoints.kafka, PARTNER_ENROLLED.full_name(prefix))
    finally:
        await outbox.stop()
        await publisher.stop()
        await serde.close()
        await engine.dispose()
        testing.drop_database(endpoints.postgres, name)


async def test_a_transaction_committing_below_the_relays_position_is_published_by_its_next_pass(
    relay: Relay,
):
    outbox = relay.outbox
    async with relay.engine.connect() as late:
        await late.begin()
        a = await relay.stage(late, 5)  # draws ids 1..5, commits last
        a_ids = (await late.execute(text("select max(id) from outbox"))).scalar_one()
        async with relay.engine.begin() as conn:
            b = await relay.stage(conn, 5)
        assert await outbox._pass(2, BACKGROUND) == 5
        assert outbox._after > a_ids  # past A's ids: only a sweep can find them
        await late.commit()

    assert await outbox._pass(2, BACKGROUND) == 5
    published = await relay.published()
    assert published == Counter(a + b)  # every one, once
    assert await outbox._pass(2, BACKGROUND) == 0


async def test_a_writer_that_draws_ids_while_a_pass_runs_is_published_by_the_next_pass(
    relay: Relay, monkeypatch: pytest.MonkeyPatch
):
    """C draws ids after the pass listed the writers, D after C, and D commits before the take:
    the pass must not take D (and so pass C's ids) since it cannot know C."""
    outbox, take = relay.outbox, relay.outbox._take
    staged: list[str] = []
    async with relay.engine.connect() as c:

        async def racing(lo: int, hi: int, limit: int, advance: bool = False) -> int:
            if advance and not staged:
                await c.begin()
                staged.extend(await relay.stage(c, 2))
                async with relay.engine.begin() as d:
                    staged.extend(await relay.stage(d, 2))
            return await take(lo, hi, limit, advance)

        monkeypatch.setattr(outbox, "_take", racing)
        await outbox._pass(10, BACKGROUND)
        await c.commit()
    await outbox._pass(10, BACKGROUND)
    assert await relay.published() == Counter(staged)


async def test_the_running_relay_publishes_a_late_commit_without_its_full_sweep(relay: Relay):
    outbox = relay.outbox
    outbox.start(interval=0.05, full_sweep=3600)
    async with relay.engine.connect() as late:
        await late.begin()
        a = await relay.stage(late, 3)
        async with relay.engine.begin() as conn:
            b = await relay.stage(conn, 3)

        async def past_b() -> bool:
            return outbox._after >= 6

        await testing.eventually(past_b)
        await late.commit()
    ids = Counter(a + b)

    async def all_published() -> bool:
        return await relay.published() == ids

    await testing.eventually(all_published)


async def test_the_relay_takes_above_the_ids_it_has_covered_and_flush_sweeps_from_zero(
    relay: Relay, monkeypatch: pytest.MonkeyPatch
):
    outbox = relay.outbox
    async with relay.engine.begin() as conn:
        await relay.stage(conn, 50)
    assert await outbox._pass(20, BACKGROUND) == 50
    assert outbox._after == 50

    ranges: list[tuple[int, int]] = []
    take = outbox._take

    async def spy(lo: int, hi: int, limit: int, advance: bool = False) -> int:
        if lo < hi:
            ranges.append((lo, hi))
        return await take(lo, hi, limit, advance)

    monkeypatch.setattr(outbox, "_take", spy)
    async with relay.engine.begin() as conn:
        await relay.stage(conn, 5)
        await orphan(relay, conn, 10)
    assert await outbox._pass(20, BACKGROUND) == 5
    assert ranges == [(50, 55)]  # not from 0: the 50 deleted rows' index entries are not walked
    assert await Outbox(relay.engine, outbox.publisher)._pass(20, BACKGROUND) == 1  # a restart

    async with relay.engine.begin() as conn:
        await orphan(relay, conn, 20)
    assert await outbox.flush() == 1
    assert ranges[1:] == [(0, 55)]


async def orphan(relay: Relay, conn: AsyncConnection, row_id: int) -> None:
    """A row below the relay's position that no listed writer staged: one that another replica's
    relay took and died holding, say."""
    (row,) = await relay.outbox.rows(Relay.events(1))
    await conn.execute(
        text(
            "insert into outbox (id, topic, key, value, headers, event_id)"
            " values (:id, :t, :k, :v, :h, :e)"
        ),
        {"id": row_id, **dict(zip("tkvhe", row, strict=True))},
    )


async def test_a_take_walks_the_id_index_even_when_statistics_say_the_outbox_is_tiny(
    relay: Relay,
):
    from channelstream_common.outbox import _TAKE, _TAKE_BY_INDEX

    async with relay.engine.begin() as conn:
        await relay.stage(conn, 3)
        await conn.exec_driver_sql("analyze outbox")  # planned on these statistics...
        await conn.exec_driver_sql(
            "insert into outbox (topic, value, event_id, headers)"
            " select 't', '\\x00', 'e' || g, '' from generate_series(1, 50000) g"
        )  # ...then a burst autoanalyze has not seen
    async with relay.engine.begin() as conn:
        await conn.exec_driver_sql(_TAKE_BY_INDEX)
        plan = (
            await conn.exec_driver_sql(
                "explain (format json) " + _TAKE.replace("%s", "{}").format(0, 10**9, 5000)
            )
        ).scalar_one()
        await conn.rollback()

    def scans(node: dict[str, Any]) -> list[str]:
        return [node["Node Type"]] + [s for child in node.get("Plans", []) for s in scans(child)]

    found = [n for n in scans(plan[0]["Plan"]) if n.endswith("Scan")]
    assert found == ["Index Scan", "Index Scan"], found
