"""The consumer behind every projection: batches from `getmany`, positions from the database."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import pytest
from channelstream_common import testing
from channelstream_common.consumer import BatchApplier
from channelstream_common.db import make_engine
from channelstream_common.events import Envelope
from channelstream_common.projection import ProjectionStore
from channelstream_common.publisher import EventPublisher
from channelstream_common.serde import AvroSerde
from channelstream_common.stream import ProjectionStream
from channelstream_common.topics import PARTNER_ENROLLED
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

pytestmark = pytest.mark.integration
EVENTS = 300


def partner(pid: str) -> dict:
    return testing.partner_enrolled(pid)


class Projection:
    """A view of partner ids, counting the batches it was handed."""

    def __init__(self, url: str, serde: AvroSerde) -> None:
        self.engine = make_engine(url)
        self.store = ProjectionStore(self.engine, "partners")
        self.applier = BatchApplier(
            "analytics", self.store, self.handle, serde, [PARTNER_ENROLLED], None
        )
        self.batches = 0

    async def setup(self) -> None:
        await self.store.setup()
        async with self.engine.begin() as conn:
            await conn.execute(text("create table seen (partner_id text primary key)"))

    async def handle(self, conn: AsyncConnection, events: Sequence[Envelope]) -> None:
        self.batches += 1
        await conn.execute(
            text("insert into seen values (:p)"), [{"p": e.value["partner_id"]} for e in events]
        )

    async def count(self) -> int:
        async with self.engine.connect() as conn:
            return int((await conn.execute(text("select count(*) from seen"))).scalar_one())


async def run_until_applied(projection: Projection, group: str, endpoints, n: int) -> None:
    stream = ProjectionStream(group, endpoints.kafka)
    stream.add(projection.applier, [PARTNER_ENROLLED.full_name(projection.applier.serde.prefix)])
    await stream.start()
    try:

        async def applied() -> bool:
            return await projection.count() == n

        await testing.eventually(applied, within=60)
    finally:
        await stream.stop()


async def test_a_fresh_database_in_an_existing_group_is_rebuilt_from_the_log_in_batches(
    endpoints, isolated_prefix, settings_for
):
    serde = AvroSerde(endpoints.registry, isolated_prefix)
    publisher = EventPublisher(endpoints.kafka, serde, "onboarding")
    await publisher.start()
    try:
        await publisher.publish_many((PARTNER_ENROLLED, partner(f"P{i}")) for i in range(EVENTS))
    finally:
        await publisher.stop()
    group = f"streamtest-{uuid.uuid4().hex[:6]}"
    urls = [settings_for("streamtest").database_url for _ in range(2)]

    first = Projection(urls[0], serde)
    await first.setup()
    await run_until_applied(first, group, endpoints, EVENTS)
    assert first.batches < EVENTS // 10  # hundreds of events per transaction, not one each

    # the group has committed every offset, but a new database must still see the whole log
    second = Projection(urls[1], serde)
    await second.setup()
    await run_until_applied(second, group, endpoints, EVENTS)
    assert await second.count() == EVENTS
    assert sum(offset + 1 for offset in (await second.store.positions()).values()) == EVENTS
    for projection in (first, second):
        await projection.engine.dispose()
