"""Rebuild a service's projections from the beginning of their input topics into a fresh
database, optionally only up to an instant, and compare the result with the live database.

The live service is not touched: the replay reads with its own group-less consumer (explicit
partition assignment, no offset commits) and writes only to the replay database.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from channelstream_common.consumer import BatchApplier
from channelstream_common.events import Envelope
from channelstream_common.kafka_security import client_kwargs
from channelstream_common.projection import ProjectionStore
from channelstream_common.runtime import Runtime

# written at run time by the database, the outbox relay or the transport (trace headers),
# not derived from the events
VOLATILE_COLUMNS = {"published_at", "applied_at", "headers"}
# record timestamps (CreateTime) are taken at send, a little after metadata.recorded_at
UNTIL_SLACK_MS = 60_000
Progress = Callable[[int, int], None]


@dataclass
class ReplayResult:
    service: str
    events: int = 0
    applied: int = 0
    seconds: float = 0.0
    dead_lettered: int = 0
    per_projection: dict[str, int] = field(default_factory=dict)

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


async def _bounds(
    consumer: AIOKafkaConsumer, topics: Sequence[str], until: datetime | None
) -> dict[TopicPartition, tuple[int, int]]:
    parts = [
        TopicPartition(t, p) for t in topics for p in sorted(consumer.partitions_for_topic(t) or ())
    ]
    if not parts:
        return {}
    begin = await consumer.beginning_offsets(parts)
    end = await consumer.end_offsets(parts)
    if until is not None:
        stamp = int(until.timestamp() * 1000) + UNTIL_SLACK_MS
        found = await consumer.offsets_for_times(dict.fromkeys(parts, stamp))
        end = {tp: (found[tp].offset if found.get(tp) else end[tp]) for tp in parts}
    return {tp: (begin[tp], end[tp]) for tp in parts if end[tp] > begin[tp]}


async def rebuild(
    runtime: Runtime,
    *,
    until: datetime | None = None,
    progress: Progress | None = None,
    batch: int = 5000,
) -> ReplayResult:
    """Apply every input record (recorded_at <= until, if given) to the runtime's projections.
    What the handlers stage is discarded: those events are on their topics already."""
    rt = runtime
    result = ReplayResult(rt.service)
    appliers = []
    for spec in rt.projections:
        store = ProjectionStore(rt.engine, spec.name)
        await store.setup()
        applier = BatchApplier(rt.service, store, spec.handler, rt.serde, spec.topics, None)
        appliers.append((spec.name, applier))
    topics = sorted({t.full_name(rt.serde.prefix) for s in rt.projections for t in s.topics})
    consumer = AIOKafkaConsumer(
        bootstrap_servers=rt.settings.kafka_bootstrap,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_partition_fetch_bytes=8 * 1024 * 1024,
        fetch_max_bytes=64 * 1024 * 1024,
        isolation_level="read_committed",
        **client_kwargs(rt.settings),
    )
    await consumer.start()
    keep = None
    if until is not None:
        cutoff = until

        def keep(env: Envelope) -> bool:
            return bool(env.metadata["recorded_at"] <= cutoff)

    outbox = rt.outbox
    if outbox is not None:
        outbox.discarding = True
    started = time.perf_counter()
    try:
        await consumer.topics()
        bounds = await _bounds(consumer, topics, until)
        total = sum(e - b for b, e in bounds.values())
        if not bounds:
            return result
        consumer.assign(list(bounds))
        for tp, (b, _) in bounds.items():
            consumer.seek(tp, b)
        remaining = dict(bounds)
        while remaining:
            fetched = await consumer.getmany(*remaining, timeout_ms=1000, max_records=batch)
            records: list[Any] = []
            for tp, recs in fetched.items():
                stop = remaining[tp][1]
                records += [r for r in recs if r.offset < stop]
                if recs and recs[-1].offset >= stop - 1:
                    remaining.pop(tp, None)
            for tp in list(remaining):
                if await consumer.position(tp) >= remaining[tp][1]:
                    remaining.pop(tp)
            if not records:
                continue
            result.events += len(records)
            for name, applier in appliers:
                mine = [r for r in records if r.topic in applier.by_name]
                if mine:
                    n = await applier.apply(mine, keep)
                    result.per_projection[name] = result.per_projection.get(name, 0) + n
                    result.applied += n
            if progress:
                progress(result.events, total)
    finally:
        await consumer.stop()
        if outbox is not None:  # the runtime stages again once the replay is over
            outbox.discarding = False
        result.seconds = time.perf_counter() - started
        result.dead_lettered = sum(len(a.dead_lettered) for _, a in appliers)
    return result


# ---------------------------------------------------------------- comparing databases


@dataclass(frozen=True)
class TableComparison:
    table: str
    live_rows: int
    replay_rows: int
    equal: bool
    differences: tuple[str, ...] = ()


async def _content_columns(engine: AsyncEngine, table: str) -> list[str]:
    """Columns that carry content: not filled by the database at insert time (serial, now())."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(
                "select column_name, coalesce(column_default, '') as d"
                " from information_schema.columns"
                " where table_schema = 'public' and table_name = :t order by column_name"
            ),
            {"t": table},
        )
        return [
            r.column_name
            for r in rows
            if r.column_name not in VOLATILE_COLUMNS
            and not r.d.startswith("nextval(")
            and "now()" not in r.d
            and "CURRENT_TIMESTAMP" not in r.d.upper()
        ]


async def _row_hashes(engine: AsyncEngine, table: str, columns: list[str]) -> list[tuple[str, str]]:
    cols = ", ".join(f'"{c}"' for c in columns)
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(f'select md5(row({cols})::text) as h, row({cols})::text as r from "{table}"')
        )
        return sorted((row.h, row.r) for row in rows)


async def tables_of(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(
                "select table_name from information_schema.tables where table_schema = 'public'"
                " and table_type = 'BASE TABLE' order by table_name"
            )
        )
        return [r.table_name for r in rows]


async def compare(
    live: AsyncEngine, replay: AsyncEngine, tables: Sequence[str], show: int = 5
) -> list[TableComparison]:
    """Row counts and an order-independent content checksum per table; first differences."""
    out = []
    for table in tables:
        columns = await _content_columns(live, table)
        a = await _row_hashes(live, table, columns)
        b = await _row_hashes(replay, table, columns)
        if a == b:
            out.append(TableComparison(table, len(a), len(b), True))
            continue
        sa, sb = {h for h, _ in a}, {h for h, _ in b}
        diffs = [f"only live:   {r}" for h, r in a if h not in sb][:show]
        diffs += [f"only replay: {r}" for h, r in b if h not in sa][:show]
        out.append(TableComparison(table, len(a), len(b), False, tuple(diffs)))
    return out
