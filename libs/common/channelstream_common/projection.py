"""Projections: apply a batch of events and record their positions in ONE transaction.

A redelivered event (offset at or below the stored position of its topic-partition) is skipped,
so it changes nothing. A handler that raises rolls the whole transaction back: the view and the
position stay where they were.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from channelstream_common.db import reading
from channelstream_common.events import Envelope

POSITIONS_DDL = """
create table if not exists projection_positions (
    projection text not null,
    topic text not null,
    partition integer not null,
    "offset" bigint not null,
    applied_at timestamptz not null default now(),
    last_event_at timestamptz,
    primary key (projection, topic, partition)
)
"""

Handler = Callable[[AsyncConnection, Sequence[Envelope]], Awaitable[None]]


class ProjectionStore:
    def __init__(self, engine: AsyncEngine, projection: str) -> None:
        self.engine = engine
        self.projection = projection

    async def setup(self) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(text(POSITIONS_DDL))

    async def positions(self) -> dict[tuple[str, int], int]:
        async with reading(self.engine) as conn:
            rows = await conn.execute(
                text(
                    'select topic, partition, "offset" from projection_positions'
                    " where projection = :p"
                ),
                {"p": self.projection},
            )
            return {(r.topic, r.partition): r.offset for r in rows}

    async def apply(self, batch: Sequence[Envelope], handler: Handler) -> int:
        """Apply the not-yet-applied events of `batch`; returns how many were applied."""
        if not batch:
            return 0
        tps = sorted({(e.topic, e.partition) for e in batch})
        async with self.engine.begin() as conn:
            # creates missing rows and locks all of them, in one round trip
            rows = await conn.execute(
                text(
                    'insert into projection_positions (projection, topic, partition, "offset")'
                    " select :p, t, n, -1 from unnest(cast(:topics as text[]),"
                    " cast(:parts as integer[])) as u(t, n)"
                    ' on conflict (projection, topic, partition) do update set "offset" ='
                    ' projection_positions."offset" returning topic, partition, "offset"'
                ),
                {"p": self.projection, "topics": [t for t, _ in tps], "parts": [n for _, n in tps]},
            )
            stored = {(r.topic, r.partition): r.offset for r in rows}
            fresh = [e for e in batch if e.offset > stored.get((e.topic, e.partition), -1)]
            if not fresh:
                return 0
            await handler(conn, fresh)
            last: dict[tuple[str, int], Envelope] = {}
            for e in fresh:
                prev = last.get((e.topic, e.partition))
                if prev is None or e.offset > prev.offset:
                    last[(e.topic, e.partition)] = e
            await conn.execute(
                text(
                    'update projection_positions set "offset" = :o, applied_at = now(),'
                    " last_event_at = to_timestamp(:ts / 1000.0)"
                    " where projection = :p and topic = :t and partition = :n"
                ),
                [
                    {"p": self.projection, "t": t, "n": n, "o": e.offset, "ts": e.timestamp_ms}
                    for (t, n), e in last.items()
                ],
            )
            return len(fresh)
